//! Pairwise covering arrays: few rows such that every pair of values of two
//! dimensions that may appear together appears together in some row.
//!
//! The construction is the classic greedy one (AETG's idea, made
//! deterministic): take the first pair not yet covered, then give every
//! other dimension the compatible value that covers the most uncovered
//! pairs with what the row already holds (ties go to the smaller value).
//! Constraints are pairwise: `compatible(a, b)` says whether value `a.1` of
//! dimension `a.0` may sit in one row with value `b.1` of dimension `b.0`.
//! A pair that no complete row can hold is dropped, never forced.
//!
//! Pure and I/O-free; the fuzzer's coverage phase
//! ([`crate::fuzz::coverage`]) names the dimensions.

use std::collections::BTreeSet;

/// One value of one dimension: `(dimension, value)`.
pub type Cell = (usize, usize);

/// Rows (one value index per dimension) covering every compatible pair of
/// the dimensions whose sizes are `sizes`.
pub fn pairwise(sizes: &[usize], compatible: &dyn Fn(Cell, Cell) -> bool) -> Vec<Vec<usize>> {
    let mut uncovered = all_pairs(sizes, compatible);
    let mut rows = Vec::new();
    while let Some(&(a, b)) = uncovered.iter().next() {
        match complete_row(sizes, compatible, &uncovered, a, b) {
            Some(row) => {
                for pair in pairs_of(&row) {
                    uncovered.remove(&pair);
                }
                rows.push(row);
            }
            None => {
                uncovered.remove(&(a, b));
            }
        }
    }
    rows
}

/// Every pair of values of two different dimensions that are compatible,
/// smaller dimension first.
fn all_pairs(sizes: &[usize], compatible: &dyn Fn(Cell, Cell) -> bool) -> BTreeSet<(Cell, Cell)> {
    let mut pairs = BTreeSet::new();
    for (d1, &n1) in sizes.iter().enumerate() {
        for (d2, &n2) in sizes.iter().enumerate().skip(d1 + 1) {
            for v1 in 0..n1 {
                for v2 in 0..n2 {
                    if compatible((d1, v1), (d2, v2)) {
                        pairs.insert(((d1, v1), (d2, v2)));
                    }
                }
            }
        }
    }
    pairs
}

/// A complete row holding `a` and `b`, or `None` when no complete row can
/// hold both. Dimensions are filled in order, each with its candidates by
/// gain (most new pairs first, ties to the smaller value), backtracking on
/// a dead end, so a pair is dropped only when it is truly uncoverable.
fn complete_row(
    sizes: &[usize],
    compatible: &dyn Fn(Cell, Cell) -> bool,
    uncovered: &BTreeSet<(Cell, Cell)>,
    a: Cell,
    b: Cell,
) -> Option<Vec<usize>> {
    let mut row: Vec<Option<usize>> = vec![None; sizes.len()];
    row[a.0] = Some(a.1);
    row[b.0] = Some(b.1);
    if !compatible(a, b) {
        return None;
    }
    let search = Search {
        sizes,
        compatible,
        uncovered,
    };
    search
        .fill(&mut row, 0)
        .then(|| row.into_iter().flatten().collect())
}

struct Search<'a> {
    sizes: &'a [usize],
    compatible: &'a dyn Fn(Cell, Cell) -> bool,
    uncovered: &'a BTreeSet<(Cell, Cell)>,
}

impl Search<'_> {
    /// Fill the dimensions from `d` on; `true` when the row is complete.
    fn fill(&self, row: &mut [Option<usize>], d: usize) -> bool {
        if d == self.sizes.len() {
            return true;
        }
        if row[d].is_some() {
            return self.fill(row, d + 1);
        }
        for v in self.candidates(row, d) {
            row[d] = Some(v);
            if self.open(row) && self.fill(row, d + 1) {
                return true;
            }
        }
        row[d] = None;
        false
    }

    /// Whether every empty dimension still has a value that fits the row
    /// (forward checking: a dead end is seen at once, not after trying every
    /// value of the dimensions in between).
    fn open(&self, row: &[Option<usize>]) -> bool {
        (0..self.sizes.len())
            .filter(|&d| row[d].is_none())
            .all(|d| !self.candidates(row, d).is_empty())
    }

    /// The values of `d` compatible with the row so far, best first.
    fn candidates(&self, row: &[Option<usize>], d: usize) -> Vec<usize> {
        let assigned: Vec<Cell> = row
            .iter()
            .enumerate()
            .filter_map(|(d, v)| v.map(|v| (d, v)))
            .collect();
        let mut fitting: Vec<(usize, usize)> = (0..self.sizes[d])
            .filter(|&v| assigned.iter().all(|&c| (self.compatible)(c, (d, v))))
            .map(|v| {
                let gain = assigned
                    .iter()
                    .filter(|&&c| self.uncovered.contains(&ordered(c, (d, v))))
                    .count();
                (gain, v)
            })
            .collect();
        fitting.sort_by_key(|&(gain, v)| (std::cmp::Reverse(gain), v));
        fitting.into_iter().map(|(_, v)| v).collect()
    }
}

fn ordered(a: Cell, b: Cell) -> (Cell, Cell) {
    if a.0 < b.0 { (a, b) } else { (b, a) }
}

/// The pairs one complete row covers.
fn pairs_of(row: &[usize]) -> Vec<(Cell, Cell)> {
    let mut out = Vec::new();
    for (d1, &v1) in row.iter().enumerate() {
        for (d2, &v2) in row.iter().enumerate().skip(d1 + 1) {
            out.push(((d1, v1), (d2, v2)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every complete row of the full product that satisfies `compatible`.
    fn valid_product(sizes: &[usize], compatible: &dyn Fn(Cell, Cell) -> bool) -> Vec<Vec<usize>> {
        let mut rows = vec![Vec::new()];
        for &n in sizes {
            rows = rows
                .into_iter()
                .flat_map(|row: Vec<usize>| {
                    (0..n).map(move |v| {
                        let mut next = row.clone();
                        next.push(v);
                        next
                    })
                })
                .collect();
        }
        rows.retain(|row| pairs_of(row).iter().all(|&(a, b)| compatible(a, b)));
        rows
    }

    #[test]
    fn unconstrained_three_by_three_by_three_needs_far_fewer_rows_than_twenty_seven() {
        let rows = pairwise(&[3, 3, 3], &|_, _| true);
        // 9 is the optimum; the greedy construction may take a few more
        assert!(
            (9..=12).contains(&rows.len()),
            "{} rows: {rows:?}",
            rows.len()
        );
        let covered: BTreeSet<_> = rows.iter().flat_map(|r| pairs_of(r)).collect();
        assert_eq!(covered.len(), 27);
    }

    #[test]
    fn a_pair_no_row_can_hold_is_dropped() {
        // dim 0 value 1 only goes with dim 1 value 0, and dim 1 value 0
        // never goes with dim 2 value 0, while dim 0 value 1 needs dim 2 value 0
        let compatible = |a: Cell, b: Cell| {
            let (a, b) = ordered(a, b);
            !matches!(
                (a, b),
                ((0, 1), (1, 1)) | ((1, 0), (2, 0)) | ((0, 1), (2, 1))
            )
        };
        let rows = pairwise(&[2, 2, 2], &compatible);
        assert!(rows.iter().all(|r| r[0] != 1), "{rows:?}");
    }

    proptest! {
        #[test]
        fn rows_are_valid_and_cover_every_coverable_pair(
            sizes in prop::collection::vec(1usize..4, 2..5),
            banned in prop::collection::btree_set(((0usize..5, 0usize..4), (0usize..5, 0usize..4)), 0..6),
        ) {
            let compatible = |a: Cell, b: Cell| {
                let pair = ordered(a, b);
                !banned.contains(&pair) && !banned.contains(&(pair.1, pair.0))
            };
            let rows = pairwise(&sizes, &compatible);
            for row in &rows {
                prop_assert_eq!(row.len(), sizes.len());
                for (a, b) in pairs_of(row) {
                    prop_assert!(compatible(a, b), "row {:?} holds banned {:?}", row, (a, b));
                }
            }
            let covered: BTreeSet<_> = rows.iter().flat_map(|r| pairs_of(r)).collect();
            let coverable: BTreeSet<_> = valid_product(&sizes, &compatible)
                .iter()
                .flat_map(|r| pairs_of(r))
                .collect();
            prop_assert!(covered.is_subset(&coverable));
            let missed: Vec<_> = coverable.difference(&covered).collect();
            prop_assert!(missed.is_empty(), "pairs some valid row holds but no chosen row: {:?}", missed);
        }
    }
}
