//! Hashes raw RGB8 pixel dumps, for the bit-exactness check against the Python `pdqhash`
//! package (`scripts/bench/pdq_oracle.py`): reads lines `path width height` on stdin, prints
//! `path hex quality` on stdout.

use std::io::BufRead;

use samaritan_engine::pdq::{PdqHasher, PixelFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut hasher = PdqHasher::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut it = line.split_whitespace();
        let (Some(path), Some(w), Some(h)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("bad manifest line {line:?}").into());
        };
        let (w, h): (usize, usize) = (w.parse()?, h.parse()?);
        let px = std::fs::read(path)?;
        let out = hasher.hash(&px, w, h, PixelFormat::Rgb8)?;
        println!("{path} {} {}", out.hash, out.quality);
    }
    Ok(())
}
