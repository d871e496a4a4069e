//! Union-find with member lists, so a group can be listed and, when a link is withdrawn, split.
//!
//! Union by size keeps trees shallow; path halving flattens them on the way. Each group's nodes
//! also form a circular list (splicing two lists on union costs O(1)), which lets a network be
//! listed without scanning every node and lets one group be reset and rebuilt alone when the hub
//! guard withdraws an identifier.

/// Disjoint sets over nodes `0..len`, each node with a weight (summed per group).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Dsu {
    #[serde(with = "crate::raw_vec::u32s")]
    parent: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    size: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    next: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    weight: Vec<u32>,
    #[serde(with = "crate::raw_vec::u32s")]
    total: Vec<u32>,
}

impl Dsu {
    /// Adds a node of weight 1 in a group of its own and returns it.
    pub fn push(&mut self) -> u32 {
        self.push_weighted(1)
    }

    /// Adds a node of weight `w` in a group of its own and returns it.
    pub fn push_weighted(&mut self, w: u32) -> u32 {
        let n = self.parent.len() as u32;
        self.parent.push(n);
        self.size.push(1);
        self.next.push(n);
        self.weight.push(w);
        self.total.push(w);
        n
    }

    /// Sum of the weights in `x`'s group.
    pub fn group_weight(&self, x: u32) -> u32 {
        self.total.get(self.root(x) as usize).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// True when the sets hold `nodes` nodes and every link stays among them (what a snapshot
    /// read back is checked for).
    pub fn fits(&self, nodes: usize) -> bool {
        let inside = |v: &[u32]| v.len() == nodes && v.iter().all(|&x| (x as usize) < nodes);
        inside(&self.parent)
            && inside(&self.next)
            && self.size.len() == nodes
            && self.weight.len() == nodes
            && self.total.len() == nodes
    }

    /// Root of `x`, flattening the path.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    /// Root of `x` without changing anything.
    pub fn root(&self, mut x: u32) -> u32 {
        while let Some(&p) = self.parent.get(x as usize) {
            if p == x {
                break;
            }
            x = p;
        }
        x
    }

    /// Joins the groups of `a` and `b`; returns the root of the joined group.
    pub fn union(&mut self, a: u32, b: u32) -> u32 {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return ra;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        self.total[big as usize] += self.total[small as usize];
        self.next.swap(big as usize, small as usize);
        big
    }

    /// Number of nodes in `x`'s group.
    pub fn group_size(&self, x: u32) -> u32 {
        self.size.get(self.root(x) as usize).copied().unwrap_or(0)
    }

    /// Every node of `x`'s group, `x` first.
    pub fn members(&self, x: u32) -> Vec<u32> {
        let mut out = vec![x];
        let mut y = self.next[x as usize];
        while y != x {
            out.push(y);
            y = self.next[y as usize];
        }
        out
    }

    /// Makes each of `nodes` (a whole group) a group of its own again.
    pub fn reset(&mut self, nodes: &[u32]) {
        for &n in nodes {
            self.parent[n as usize] = n;
            self.size[n as usize] = 1;
            self.next[n as usize] = n;
            self.total[n as usize] = self.weight[n as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_lists_and_resets() {
        let mut d = Dsu::default();
        let n: Vec<u32> = (0..6).map(|_| d.push()).collect();
        d.union(n[0], n[1]);
        d.union(n[2], n[3]);
        d.union(n[1], n[3]);
        assert_eq!(d.root(n[0]), d.root(n[2]));
        let mut m = d.members(n[2]);
        m.sort();
        assert_eq!(m, vec![0, 1, 2, 3]);
        assert_eq!(d.group_size(n[3]), 4);
        assert_eq!(d.members(n[4]), vec![4]);
        d.reset(&m);
        assert_eq!(d.members(n[0]), vec![0]);
        assert_ne!(d.root(n[0]), d.root(n[1]));
        d.union(n[0], n[5]);
        assert_eq!(d.group_size(n[5]), 2);
        let z = d.push_weighted(0);
        d.union(z, n[0]);
        assert_eq!(d.group_size(z), 3);
        assert_eq!(d.group_weight(z), 2);
    }
}
