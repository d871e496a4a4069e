//! Number vectors saved as raw little-endian bytes in a snapshot (`#[serde(with = …)]`): the
//! linker's large arrays (union-find parents, token ids, hash-table slots) load with one copy
//! instead of a variable-length decode per number, and an empty slot (`u64::MAX`) takes 8 bytes
//! instead of 10.

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

macro_rules! raw {
    ($name:ident, $t:ty) => {
        pub(crate) mod $name {
            use super::*;

            const W: usize = std::mem::size_of::<$t>();

            pub(crate) fn serialize<S: Serializer>(v: &[$t], s: S) -> Result<S::Ok, S::Error> {
                let mut bytes = Vec::with_capacity(v.len() * W);
                for x in v {
                    bytes.extend_from_slice(&x.to_le_bytes());
                }
                s.serialize_bytes(&bytes)
            }

            struct V;

            impl<'de> Visitor<'de> for V {
                type Value = Vec<$t>;

                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    write!(f, "bytes, {} per number", W)
                }

                fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<$t>, E> {
                    if b.len() % W != 0 {
                        return Err(E::invalid_length(b.len(), &self));
                    }
                    Ok(b.chunks_exact(W)
                        .map(|c| {
                            let mut a = [0u8; W];
                            a.copy_from_slice(c);
                            <$t>::from_le_bytes(a)
                        })
                        .collect())
                }
            }

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Vec<$t>, D::Error> {
                d.deserialize_bytes(V)
            }
        }
    };
}

raw!(u32s, u32);
raw!(u64s, u64);

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super::u32s")]
        a: Vec<u32>,
        #[serde(with = "super::u64s")]
        b: Vec<u64>,
    }

    #[test]
    fn round_trip_and_damage() {
        let t = T {
            a: vec![0, 1, u32::MAX, 7],
            b: vec![u64::MAX, 3],
        };
        let bytes = postcard::to_stdvec(&t).unwrap_or_default();
        assert_eq!(postcard::from_bytes::<T>(&bytes).ok(), Some(t));
        // A length that is not a whole number of values is refused.
        let odd = postcard::to_stdvec(&(vec![1u8, 2, 3].as_slice(), [0u8; 0].as_slice()))
            .unwrap_or_default();
        assert!(postcard::from_bytes::<T>(&odd).is_err());
    }
}
