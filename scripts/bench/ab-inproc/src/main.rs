//! In-process A/B of two engine builds on the text bench workload (`scripts/bench/ab.sh --text-inproc`):
//! rounds alternate, so both see the same machine; prints medians and the median per-pair ratio.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let pairs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(40);
    let corpus = synth::Corpus::new(synth::Config {
        ads: 2_000,
        seed: 11,
        images: false,
        ..synth::Config::default()
    });
    let docs: Vec<String> = corpus.iter().map(|(ad, _)| ad.document()).collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let ob = base::extract::ExtractOptions::default();
    let on = new::extract::ExtractOptions::default();
    let run_b = || {
        docs.iter()
            .map(|d| {
                let n = base::normalize(d);
                base::extract::extract(d, &n, &ob).mentions().len()
            })
            .sum::<usize>()
    };
    let run_n = || {
        docs.iter()
            .map(|d| {
                let n = new::normalize(d);
                new::extract::extract(d, &n, &on).mentions().len()
            })
            .sum::<usize>()
    };
    assert_eq!(run_b(), run_n());
    let (mut tb, mut tn, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..pairs {
        let time = |f: &dyn Fn() -> usize| {
            let s = std::time::Instant::now();
            std::hint::black_box(f());
            s.elapsed().as_secs_f64()
        };
        let (b, n) = if i % 2 == 0 {
            let b = time(&run_b);
            (b, time(&run_n))
        } else {
            let n = time(&run_n);
            (time(&run_b), n)
        };
        tb.push(b);
        tn.push(n);
        r.push(b / n);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let mib = |t: f64| bytes as f64 / t / 1048576.0;
    let (mb, mn, mr) = (med(&mut tb), med(&mut tn), med(&mut r));
    println!(
        "base {:.2} ms ({:.1} MiB/s)  new {:.2} ms ({:.1} MiB/s)  median per-pair speed-up {:.3}  [{} pairs]",
        mb * 1e3,
        mib(mb),
        mn * 1e3,
        mib(mn),
        mr,
        pairs
    );
}
