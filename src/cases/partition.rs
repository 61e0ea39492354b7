//! Splitting a selection over CI jobs (`run --partition count:K/N` or
//! `hash:K/N`, as cargo-nextest does): every case lands in exactly one of
//! the N shards, the same one on every machine and every run.
//!
//! `count` deals the selected cases out in turn (the i-th to shard
//! `i mod N + 1`): shards of even size, but a case may move when the
//! selection changes. `hash` places each case by a hash of its id (64-bit
//! FNV-1a, fixed here so it never changes with the toolchain): a case stays
//! in its shard whatever else is selected.

use std::str::FromStr;

/// How the cases are dealt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Count,
    Hash,
}

/// Shard `shard` (1-based) of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    pub shard: usize,
    pub of: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let usage =
            || format!("'{text}' is not a partition: write count:K/N or hash:K/N, e.g. count:1/4");
        let (scheme, rest) = text.split_once(':').ok_or_else(usage)?;
        let scheme = match scheme {
            "count" => Scheme::Count,
            "hash" => Scheme::Hash,
            _ => return Err(usage()),
        };
        let (shard, of) = rest.split_once('/').ok_or_else(usage)?;
        let shard: usize = shard.parse().map_err(|_| usage())?;
        let of: usize = of.parse().map_err(|_| usage())?;
        if of == 0 || shard == 0 || shard > of {
            return Err(format!(
                "'{text}': the shard K must be between 1 and N (N at least 1)"
            ));
        }
        Ok(Partition { scheme, shard, of })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.scheme {
            Scheme::Count => "count",
            Scheme::Hash => "hash",
        };
        write!(f, "{scheme}:{}/{}", self.shard, self.of)
    }
}

impl Partition {
    /// Whether the `index`-th selected item, `id`, is in this shard.
    pub fn keeps(&self, index: usize, id: &str) -> bool {
        let slot = match self.scheme {
            Scheme::Count => index % self.of,
            Scheme::Hash => (fnv1a(id) % self.of as u64) as usize,
        };
        slot + 1 == self.shard
    }

    /// The items of this shard, in their order; `id` names each.
    pub fn apply<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(index, item)| self.keeps(*index, id(item)))
            .map(|(_, item)| item)
            .collect()
    }
}

/// 64-bit FNV-1a.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_lands_in_exactly_one_shard() {
        let ids: Vec<String> = (0..50).map(|i| format!("area.case-{i}")).collect();
        for scheme in ["count", "hash"] {
            let mut seen = Vec::new();
            for k in 1..=4 {
                let p: Partition = format!("{scheme}:{k}/4").parse().unwrap();
                seen.extend(p.apply(ids.clone(), |s| s.as_str()));
            }
            seen.sort();
            let mut all = ids.clone();
            all.sort();
            assert_eq!(seen, all, "{scheme}");
        }
    }

    #[test]
    fn bad_partitions_say_how_to_write_one() {
        for bad in [
            "count:0/3",
            "count:4/3",
            "hash:1/0",
            "slice:1/2",
            "count:1",
            "count:a/b",
        ] {
            let err = bad.parse::<Partition>().unwrap_err();
            assert!(
                err.contains("K") || err.contains("count:K/N"),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            "hash:2/3".parse::<Partition>().unwrap().to_string(),
            "hash:2/3"
        );
        // The hash is FNV-1a's (published vectors): a case keeps its shard
        // across releases.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }
}
