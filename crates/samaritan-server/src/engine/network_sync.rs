//! What the store knows of the networks, kept beside the linker so that each ingest writes only
//! the memberships that changed (merges and splits included) in the same transaction as its ads.

use std::collections::{BTreeMap, HashMap, HashSet};

use samaritan_engine::link::{Linker, Network};
use samaritan_store::{NetworkChanges, NetworkSave};

/// The networks as last written to the store, and the ads linked since.
#[derive(Default)]
pub(crate) struct NetworkSync {
    /// Network of each ad as last saved, and the members of each saved network.
    net_of: HashMap<String, String>,
    members_of: HashMap<String, Vec<String>>,
    /// Ads linked since the last save.
    dirty: Vec<String>,
}

impl NetworkSync {
    /// An ad whose network may have changed.
    pub(crate) fn touched(&mut self, id: String) {
        self.dirty.push(id);
    }

    /// A membership an ingest item writes from its analysis just before the next changes, in
    /// the same transaction: taken as saved, and the ad checked (the linker may have moved on
    /// since the analysis was made, for instance when a later batch took its network apart).
    pub(crate) fn written(&mut self, ad: &str, net: Option<&str>) {
        match net {
            Some(n) => {
                if self.net_of.get(ad).map(String::as_str) != Some(n) {
                    self.members_of
                        .entry(n.to_owned())
                        .or_default()
                        .push(ad.to_owned());
                    self.net_of.insert(ad.to_owned(), n.to_owned());
                }
            }
            None => {
                self.net_of.remove(ad);
            }
        }
        self.dirty.push(ad.to_owned());
    }

    /// Takes the stored memberships `(ad, network)` as the last saved state. With `check_all`,
    /// every ad in them is checked at the next [`NetworkSync::changes`] (a network may have
    /// vanished: the linker was rebuilt from records); without, only the ads touched.
    pub(crate) fn saved(&mut self, memberships: Vec<(String, String)>, check_all: bool) {
        for (ad, net) in memberships {
            self.members_of
                .entry(net.clone())
                .or_default()
                .push(ad.clone());
            self.net_of.insert(ad, net);
        }
        if check_all {
            let saved: Vec<String> = self.net_of.keys().cloned().collect();
            self.dirty.extend(saved);
        }
    }

    /// The changes since the last call, taken as saved.
    pub(crate) fn changes(&mut self, linker: &Linker) -> NetworkChanges {
        let dirty = std::mem::take(&mut self.dirty);
        if dirty.is_empty() {
            return NetworkChanges::default();
        }
        // The network of every ad touched, and of every ad that shared a network with one.
        let mut now_of: HashMap<String, Option<String>> = HashMap::new();
        let mut nets: BTreeMap<String, Network> = BTreeMap::new();
        let resolve = |id: &str,
                       now_of: &mut HashMap<String, Option<String>>,
                       nets: &mut BTreeMap<String, Network>| {
            if now_of.contains_key(id) {
                return;
            }
            match linker.network_of(id) {
                Some(n) => {
                    for m in &n.members {
                        now_of.insert(m.clone(), Some(n.id.clone()));
                    }
                    nets.insert(n.id.clone(), n);
                }
                None => {
                    now_of.insert(id.to_owned(), None);
                }
            }
        };
        for id in &dirty {
            resolve(id, &mut now_of, &mut nets);
        }
        // Networks saved before that any of these ads was in: their other members may have
        // moved (merge) or left (split). Expand until nothing new turns up.
        let mut expanded: HashSet<String> = HashSet::new();
        loop {
            let pending: Vec<String> = now_of
                .keys()
                .filter_map(|ad| self.net_of.get(ad))
                .chain(nets.keys())
                .filter(|n| !expanded.contains(*n))
                .cloned()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if pending.is_empty() {
                break;
            }
            for p in pending {
                if let Some(members) = self.members_of.get(&p) {
                    for m in members.clone() {
                        resolve(&m, &mut now_of, &mut nets);
                    }
                }
                expanded.insert(p);
            }
        }
        let mut changes = NetworkChanges::default();
        for (ad, now) in &now_of {
            if self.net_of.get(ad) != now.as_ref() {
                changes.members.push((ad.clone(), now.clone()));
            }
        }
        changes.members.sort();
        changes.removed = expanded
            .iter()
            .filter(|id| !nets.contains_key(*id) && self.members_of.contains_key(*id))
            .cloned()
            .collect();
        changes.removed.sort();
        for (ad, now) in &changes.members {
            match now {
                Some(n) => {
                    self.net_of.insert(ad.clone(), n.clone());
                }
                None => {
                    self.net_of.remove(ad);
                }
            }
        }
        for id in &changes.removed {
            self.members_of.remove(id);
        }
        for (id, n) in nets {
            let r = n.reference();
            changes.save.push(NetworkSave {
                id: id.clone(),
                size: i64::from(r.size),
                cities: i64::from(r.cities),
                reasons: r.reasons,
                detail: serde_json::json!({
                    "evidence": n.evidence,
                    "guarded": n.guarded,
                    "features": n.features,
                }),
            });
            self.members_of.insert(id, n.members);
        }
        changes
    }
}
