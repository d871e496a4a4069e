//! How identifiers are written in ads: plainly, or obfuscated to slip past filters.
//!
//! Obfuscation forms follow what Memex-era extraction research met in real ads: spelled digits in
//! English and Spanish, homophones, letters for digits, Unicode digit look-alikes, invisible
//! characters and stray separators. Every rendering is read back in tests by a simple reference
//! decoder, so the truth file never claims a number the text does not contain.

use crate::rng::Rng;

/// A fictional phone number and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// Digits as the truth file and the engine's output spell them: 10 digits for North American
    /// numbers (no leading 1), country code + national number otherwise.
    pub digits: String,
    /// Country calling code (1 or 44).
    pub country: u16,
}

/// Area codes in use in the US and Canada. Numbers are made in the 555 exchange, which the NANP
/// keeps out of subscriber use (555-0100..0199 is reserved for fiction; the rest of 555 was set
/// aside for information services), so no generated number reaches a real person.
const AREA_CODES: &[u16] = &[
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225,
    228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281,
    301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321,
    323, 325, 330, 334, 336, 337, 339, 347, 351, 352, 360, 361, 385, 386, 401, 402, 404, 405, 406,
    407, 408, 409, 410, 412, 413, 414, 415, 416, 417, 419, 423, 424, 425, 430, 432, 434, 435, 440,
    443, 469, 470, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513,
    514, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574,
    580, 585, 586, 601, 602, 603, 604, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618,
    619, 620, 623, 626, 630, 631, 636, 641, 646, 647, 650, 651, 660, 661, 662, 678, 682, 701, 702,
    703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734,
    740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805,
    806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850,
    856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 906, 907, 908, 909, 910, 912,
    913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952,
    954, 956, 970, 971, 972, 973, 978, 979, 980, 985,
];

impl Phone {
    /// The `n`-th fictional number of a corpus: distinct `n` give distinct numbers (up to the
    /// size of the space, about 3.3 million). A few are UK numbers from Ofcom's drama range
    /// (07700 900000–900999); the rest are North American numbers in the 555 exchange.
    pub fn numbered(seed: u64, n: u64) -> Phone {
        const UK_EVERY: u64 = 211;
        const UK_SPACE: u64 = 1000;
        if n % UK_EVERY == 7 && n / UK_EVERY < UK_SPACE {
            let i = permute(seed ^ 0x44, n / UK_EVERY, UK_SPACE);
            return Phone {
                digits: format!("447700900{i:03}"),
                country: 44,
            };
        }
        Phone::nanp_numbered(seed, n)
    }

    /// The `n`-th North American number of the space: area code × line in the 555 exchange,
    /// skipping 555-1212 (directory assistance).
    fn nanp_numbered(seed: u64, n: u64) -> Phone {
        let lines = 9_999u64;
        let space = AREA_CODES.len() as u64 * lines;
        let i = permute(seed, n % space, space);
        let area = AREA_CODES[(i / lines) as usize];
        let mut line = i % lines;
        if line >= 1212 {
            line += 1;
        }
        Phone {
            digits: format!("{area}555{line:04}"),
            country: 1,
        }
    }

    /// A random fictional North American number (may repeat; tests only).
    pub fn nanp(rng: &mut Rng) -> Phone {
        Phone::nanp_numbered(rng.next_u64(), rng.next_u64() % 1_000_000)
    }

    /// A random fictional UK number (tests only).
    pub fn uk(rng: &mut Rng) -> Phone {
        Phone {
            digits: format!("447700900{:03}", rng.range(0, 999)),
            country: 44,
        }
    }

    /// The national significant number (what is written after the country code).
    pub fn national(&self) -> &str {
        if self.country == 1 {
            &self.digits
        } else {
            &self.digits[2..]
        }
    }
}

/// How a phone number is written; [`PhoneStyle::obfuscated`] says whether a reviewer would call
/// it an obscured number (plain separators are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneStyle {
    Plain,
    Separated,
    OddSeparators,
    SpacedDigits,
    SpelledEnglish,
    SpelledSpanish,
    MixedWords,
    Homophones,
    LettersForDigits,
    Keycap,
    Circled,
    FullWidth,
    MathDigits,
    ZeroWidth,
    SplitWords,
}

impl PhoneStyle {
    pub const ALL: [PhoneStyle; 15] = [
        PhoneStyle::Plain,
        PhoneStyle::Separated,
        PhoneStyle::OddSeparators,
        PhoneStyle::SpacedDigits,
        PhoneStyle::SpelledEnglish,
        PhoneStyle::SpelledSpanish,
        PhoneStyle::MixedWords,
        PhoneStyle::Homophones,
        PhoneStyle::LettersForDigits,
        PhoneStyle::Keycap,
        PhoneStyle::Circled,
        PhoneStyle::FullWidth,
        PhoneStyle::MathDigits,
        PhoneStyle::ZeroWidth,
        PhoneStyle::SplitWords,
    ];

    pub fn obfuscated(self) -> bool {
        !matches!(self, PhoneStyle::Plain | PhoneStyle::Separated)
    }

    /// A plain style (what most posters write).
    pub fn plain(rng: &mut Rng) -> PhoneStyle {
        if rng.chance(0.3) {
            PhoneStyle::Plain
        } else {
            PhoneStyle::Separated
        }
    }

    /// One of the obscured styles.
    pub fn obscured(rng: &mut Rng) -> PhoneStyle {
        rng.pick(&Self::ALL[2..])
    }
}

const EN: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const ES: [&str; 10] = [
    "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
];

fn digit(c: char) -> usize {
    c.to_digit(10).map_or(0, |d| d as usize)
}

/// Random casing of a word, as in "FoUr" or "SEVEN", now and then.
fn odd_case(word: &str, rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => word.to_uppercase(),
        1 => word
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
        2 => {
            let mut cs = word.chars();
            cs.next()
                .map(|f| f.to_uppercase().chain(cs).collect())
                .unwrap_or_default()
        }
        _ => word.to_owned(),
    }
}

/// Groups of a number as people write them: NANP 3-3-4, UK 4-6.
fn groups(phone: &Phone) -> Vec<&str> {
    let n = phone.national();
    if phone.country == 1 {
        vec![&n[0..3], &n[3..6], &n[6..10]]
    } else {
        vec![&n[0..4], &n[4..]]
    }
}

/// A bijection of `0..space` chosen by `seed` (an affine map with a multiplier coprime to the
/// space), so distinct inputs give distinct numbers.
fn permute(seed: u64, x: u64, space: u64) -> u64 {
    let mut r = Rng::new(seed);
    let mut a = 1 + r.next_u64() % (space - 1);
    while gcd(a, space) != 1 {
        a += 1;
    }
    let b = r.next_u64() % space;
    ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(space)) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Writes `phone` in `style`.
pub fn render_phone(phone: &Phone, style: PhoneStyle, rng: &mut Rng) -> String {
    let g = groups(phone);
    let national = phone.national();
    let prefix = |rng: &mut Rng| -> String {
        if phone.country == 44 {
            if rng.chance(0.5) {
                "+44 ".to_owned()
            } else {
                "0".to_owned()
            }
        } else if rng.chance(0.1) {
            "+1 ".to_owned()
        } else {
            String::new()
        }
    };
    match style {
        PhoneStyle::Plain => {
            let p = prefix(rng);
            if phone.country == 44 && p == "0" {
                format!("0{national}")
            } else {
                format!("{p}{national}")
            }
        }
        PhoneStyle::Separated => {
            let p = prefix(rng);
            if phone.country == 1 {
                match rng.below(4) {
                    0 => format!("{p}({}) {}-{}", g[0], g[1], g[2]),
                    1 => format!("{p}{}-{}-{}", g[0], g[1], g[2]),
                    2 => format!("{p}{}.{}.{}", g[0], g[1], g[2]),
                    _ => format!("{p}{} {} {}", g[0], g[1], g[2]),
                }
            } else {
                format!("{p}{} {}", g[0], g[1])
            }
        }
        PhoneStyle::OddSeparators => {
            let sep = rng.pick(&["*", "~", "/", "_", " * ", "..", " - ", " ~ ", "**"]);
            format!("{}{}", prefix(rng), g.join(sep))
        }
        PhoneStyle::SpacedDigits => {
            let digits: Vec<String> = national.chars().map(String::from).collect();
            format!("{}{}", prefix(rng), digits.join(" "))
        }
        PhoneStyle::SpelledEnglish | PhoneStyle::SpelledSpanish => {
            let words = if style == PhoneStyle::SpelledEnglish {
                &EN
            } else {
                &ES
            };
            let sep = rng.pick(&[" ", "-", " ", ", "]);
            let w: Vec<String> = national
                .chars()
                .map(|c| odd_case(words[digit(c)], rng))
                .collect();
            w.join(sep)
        }
        PhoneStyle::MixedWords => {
            // "4zero4 555 oh1four2": some digits as words, glued or spaced.
            let mut out = String::new();
            for (gi, grp) in g.iter().enumerate() {
                if gi > 0 {
                    out.push_str(rng.pick(&[" ", "-", "/", " "]));
                }
                for c in grp.chars() {
                    if rng.chance(0.45) {
                        let words = if rng.chance(0.8) { &EN } else { &ES };
                        out.push_str(&odd_case(words[digit(c)], rng));
                    } else {
                        out.push(c);
                    }
                }
            }
            out
        }
        PhoneStyle::Homophones => {
            let mut out = String::new();
            for (gi, grp) in g.iter().enumerate() {
                if gi > 0 {
                    out.push(' ');
                }
                for c in grp.chars() {
                    let word = match c {
                        '4' if rng.chance(0.7) => Some(rng.pick(&["for", "four"])),
                        '2' if rng.chance(0.7) => Some(rng.pick(&["to", "too", "two"])),
                        '0' if rng.chance(0.7) => Some("oh"),
                        '8' if rng.chance(0.7) => Some("ate"),
                        _ => None,
                    };
                    // "too" + "oh" would read as "to" + "oh…": keep glued words unambiguous.
                    let clash = word.is_some_and(|w| w.starts_with('o'))
                        && out.to_ascii_lowercase().ends_with('o');
                    match word {
                        Some(w) if !clash => out.push_str(&odd_case(w, rng)),
                        _ => out.push(c),
                    }
                }
            }
            out
        }
        PhoneStyle::LettersForDigits => {
            let s: String = national
                .chars()
                .map(|c| match c {
                    '0' => rng.pick(&['O', 'o', 'O']),
                    '1' => rng.pick(&['l', 'I', '|', 'l']),
                    _ => c,
                })
                .collect();
            let sep = rng.pick(&["", "-", " ", "."]);
            if phone.country == 1 && !sep.is_empty() {
                format!("{}{sep}{}{sep}{}", &s[..3], &s[3..6], &s[6..])
            } else {
                s
            }
        }
        PhoneStyle::Keycap => national
            .chars()
            .map(|c| format!("{c}\u{FE0F}\u{20E3}"))
            .collect(),
        PhoneStyle::Circled => national
            .chars()
            .map(|c| match digit(c) {
                0 => '\u{24EA}',
                d => char::from_u32(0x2460 + d as u32 - 1).unwrap_or(c),
            })
            .collect(),
        PhoneStyle::FullWidth => {
            let s: String = national
                .chars()
                .map(|c| char::from_u32(0xFF10 + digit(c) as u32).unwrap_or(c))
                .collect();
            if phone.country == 1 && rng.chance(0.5) {
                let cs: Vec<char> = s.chars().collect();
                format!(
                    "{}ー{}ー{}",
                    cs[..3].iter().collect::<String>(),
                    cs[3..6].iter().collect::<String>(),
                    cs[6..].iter().collect::<String>()
                )
            } else {
                s
            }
        }
        PhoneStyle::MathDigits => {
            let base = rng.pick(&[0x1D7CE_u32, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6]);
            national
                .chars()
                .map(|c| char::from_u32(base + digit(c) as u32).unwrap_or(c))
                .collect()
        }
        PhoneStyle::ZeroWidth => {
            let mut out = String::new();
            for (i, c) in national.chars().enumerate() {
                if i > 0 && rng.chance(0.5) {
                    out.push(
                        rng.pick(&['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}']),
                    );
                }
                out.push(c);
                if phone.country == 1 && (i == 2 || i == 5) && rng.chance(0.5) {
                    out.push('-');
                }
            }
            out
        }
        PhoneStyle::SplitWords => {
            // "404 five five five 0142": one group spelled out in words.
            let spelled = rng.below(g.len());
            let parts: Vec<String> = g
                .iter()
                .enumerate()
                .map(|(i, grp)| {
                    if i == spelled {
                        grp.chars()
                            .map(|c| EN[digit(c)])
                            .collect::<Vec<_>>()
                            .join(" ")
                    } else {
                        (*grp).to_owned()
                    }
                })
                .collect();
            parts.join(" ")
        }
    }
}

/// Ways an age is stated. The rendering is a whole phrase ("I'm 22.", "Age: 22").
pub fn render_age(age: u32, rng: &mut Rng) -> String {
    match rng.below(11) {
        0 => format!("Age: {age}."),
        1 => format!("age {age}."),
        2 => format!("{age}yo."),
        3 => format!("{age} y/o."),
        4 => format!("I'm {age}."),
        5 => format!("{age} years old."),
        6 => format!("{} years young.", number_words(age)),
        7 => format!("I am {} years old.", number_words(age)),
        8 => format!("{age} yrs."),
        9 => format!("Age {age}!"),
        _ => format!("{age} years young."),
    }
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// English words for 0..=99 ("twenty one").
pub fn number_words(n: u32) -> String {
    match n {
        0..=19 => ONES[n as usize].to_owned(),
        20..=99 if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
        20..=99 => format!("{} {}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
        _ => n.to_string(),
    }
}

/// A rate as written in commercial-sex ads, e.g. "150/hh 250/hr" or "200 roses".
pub fn render_rate(rng: &mut Rng) -> String {
    let hh = rng.range(8, 25) * 10;
    let hr = hh + rng.range(5, 15) * 10;
    match rng.below(6) {
        0 => format!("{hh}/hh {hr}/hr"),
        1 => format!("${hh} half hour, ${hr} hour"),
        2 => format!("{hr} roses hr"),
        3 => format!("hh {hh} hr {hr}"),
        4 => format!("${hr}/hour"),
        _ => format!("donation {hr} per hour"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deliberately simple reference reader used only to check the generator's own output.
    pub(crate) fn read_back(text: &str) -> String {
        let mut s: String = text
            .chars()
            .filter(|c| {
                !matches!(
                    c,
                    '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{FE0F}' | '\u{20E3}'
                )
            })
            .collect();
        s = s.to_lowercase();
        for (words, _) in [(&EN, 0), (&ES, 1)] {
            for (d, w) in words.iter().enumerate() {
                s = s.replace(w, &d.to_string());
            }
        }
        for (w, d) in [
            ("for", "4"),
            ("too", "2"),
            ("to", "2"),
            ("oh", "0"),
            ("ate", "8"),
        ] {
            s = s.replace(w, d);
        }
        s.chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                'o' => Some('0'),
                'l' | 'i' | '|' => Some('1'),
                '\u{24EA}' => Some('0'),
                '\u{2460}'..='\u{2468}' => char::from_digit(c as u32 - 0x2460 + 1, 10),
                '\u{FF10}'..='\u{FF19}' => char::from_digit(c as u32 - 0xFF10, 10),
                '\u{1D7CE}'..='\u{1D7FF}' => char::from_digit((c as u32 - 0x1D7CE) % 10, 10),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_style_reads_back_to_the_number() {
        let mut rng = Rng::new(11);
        for _ in 0..300 {
            let phone = if rng.chance(0.2) {
                Phone::uk(&mut rng)
            } else {
                Phone::nanp(&mut rng)
            };
            for style in PhoneStyle::ALL {
                let text = render_phone(&phone, style, &mut rng);
                let got = read_back(&text);
                assert!(
                    got.ends_with(phone.national()),
                    "{style:?}: {text:?} read as {got} for {}",
                    phone.digits
                );
            }
        }
    }

    #[test]
    fn numbered_phones_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..300_000 {
            let p = Phone::numbered(9, n);
            assert!(seen.insert(p.digits.clone()), "{n} repeats {}", p.digits);
        }
        assert!(seen.iter().any(|d| d.starts_with("44")));
    }

    #[test]
    fn numbers_are_fictional() {
        let mut rng = Rng::new(5);
        for _ in 0..1000 {
            let p = Phone::nanp(&mut rng);
            assert_eq!(&p.digits[3..6], "555");
            assert_ne!(&p.digits[6..], "1212");
            let u = Phone::uk(&mut rng);
            assert!(u.digits.starts_with("447700900"));
        }
    }

    #[test]
    fn number_words_spell_ages() {
        assert_eq!(number_words(19), "nineteen");
        assert_eq!(number_words(21), "twenty one");
        assert_eq!(number_words(40), "forty");
    }
}
