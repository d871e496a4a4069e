//! The linker: ads in, in order; networks, templates and evidence out, at any moment.
//!
//! Networks are the connected groups of a graph whose nodes are ads, identifiers and templates:
//! an ad is joined to each identifier it carries (unless the hub guard withdrew it) and to its
//! template (when the ad is long enough for shared text to mean a shared author). A union-find
//! over those nodes keeps the groups current as ads arrive; inserting an ad costs its
//! identifiers plus its few LSH candidates, never a rebuild. Only when the hub guard withdraws
//! an identifier is one group — the one it glued — taken apart and joined again without it.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::dsu::Dsu;
use super::features::{FeatureBuilder, MemberFacts, NetworkFeatures};
use super::hub::HubGuard;
use super::ident::{HubNote, IdentKind};
use super::input::{LinkError, LinkInput, check};
use crate::model::{NetworkRef, TemplateRef};
use crate::similar::{DiffPart, Joined, SimilarConfig, TemplateIndex};

/// Settings of the linker. Saved with its state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    pub similar: SimilarConfig,
    pub hub: HubGuard,
    /// Ads shorter than this many tokens are grouped into templates but a shared template does
    /// not put them in one network (short texts such as "call me now" are shared by strangers).
    pub min_template_link_tokens: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            similar: SimilarConfig::default(),
            hub: HubGuard::default(),
            min_template_link_tokens: 8,
        }
    }
}

/// The result of one insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// Internal index of the ad (insertion order).
    pub index: u32,
    /// The id was already known; nothing changed.
    pub duplicate: bool,
    /// Ads (internal indices) of every network the insert took apart and joined again (a
    /// contact judged a hub, a template or image guarded): their networks may have changed
    /// although they are not this ad's. A caller that keeps networks elsewhere checks them.
    pub regrouped: Vec<u32>,
}

/// One identifier (or template) that ties members of a network together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `phone`, `email`, `handle`, `payment`, `account`, `image` or `template`.
    pub kind: String,
    /// The identifier's value, or the template id.
    pub value: String,
    /// Members carrying it.
    pub ads: u32,
    /// The template text, for `template` evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A network: members, why they are linked, and what the group looks like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// `n-` and a hash of the oldest member's id: stable as the network grows.
    pub id: String,
    /// Member ad ids in insertion order.
    pub members: Vec<String>,
    /// Kinds of evidence, in the order phone, email, handle, payment, account, template, image.
    pub reasons: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Identifiers carried by members that the hub guard withdrew, with its reasons.
    pub guarded: Vec<HubNote>,
    pub features: NetworkFeatures,
}

impl Network {
    /// The short form that goes into each member's analysis.
    pub fn reference(&self) -> NetworkRef {
        NetworkRef {
            id: self.id.clone(),
            size: self.features.size,
            cities: self.features.cities,
            reasons: self.reasons.clone(),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct AdEntry {
    pub id: Box<str>,
    pub posted_at: Option<i64>,
    pub city: Option<u32>,
    pub node: u32,
    pub idents: Box<[u32]>,
    pub names: Box<[u32]>,
    /// Copied content (images, template) of this ad links nothing: the ad, a poster of its own,
    /// would otherwise bridge two established posters through it.
    pub content_off: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Ident {
    pub kind: IdentKind,
    pub value: Box<str>,
    pub node: u32,
    pub ads: u32,
    pub hub: Option<Box<HubNote>>,
    /// Distinct other contacts seen beside a contact (until it is judged a hub).
    co: Option<Box<FxHashSet<u32>>>,
    /// Ads carrying a piece of content (images), for the content guard.
    members: Vec<u32>,
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum Owner {
    Ad(u32),
    Ident,
    Template,
}

/// Strings interned to small ids (cities, names).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    pub items: Vec<Box<str>>,
}

impl Interner {
    /// The interner of `items` (ids in their order); an error when an item is listed twice.
    pub fn from_items(items: Vec<Box<str>>) -> Result<Interner, &'static str> {
        let mut ids = FxHashMap::with_capacity_and_hasher(items.len(), Default::default());
        for (i, s) in items.iter().enumerate() {
            if ids.insert(s.clone(), i as u32).is_some() {
                return Err("an interned string is listed twice");
            }
        }
        Ok(Interner { ids, items })
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.items.len() as u32;
        self.ids.insert(s.into(), i);
        self.items.push(s.into());
        i
    }

    pub fn get(&self, i: u32) -> &str {
        self.items.get(i as usize).map_or("", |s| s)
    }
}

/// Incremental linking of ads into networks through identifiers and templates.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Linker {
    pub(crate) cfg: LinkConfig,
    pub(crate) text: TemplateIndex,
    pub(crate) ads: Vec<AdEntry>,
    ad_ids: FxHashMap<Box<str>, u32>,
    pub(crate) idents: Vec<Ident>,
    ident_ids: [FxHashMap<Box<str>, u32>; 7],
    pub(crate) places: Interner,
    pub(crate) names: Interner,
    net: Dsu,
    /// The same nodes joined by accounts and contacts only: who is one poster, for the content
    /// guard.
    idn: Dsu,
    owner: Vec<Owner>,
    template_node: FxHashMap<u32, u32>,
    template_stats: FxHashMap<u32, TemplateStats>,
}

/// Who uses a template: the distinct accounts and contacts of its ads, and the guard's verdict.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TemplateStats {
    /// Ads of the template (any order).
    members: Vec<u32>,
    pub guard: Option<Box<HubNote>>,
}

impl Default for Linker {
    fn default() -> Self {
        Linker::new(LinkConfig::default())
    }
}

fn kind_slot(kind: IdentKind) -> usize {
    kind as usize
}

/// A stable short id from a string: 16 hex digits of its xxh3.
fn stable_id(prefix: &str, s: &str) -> String {
    format!("{prefix}-{:016x}", xxh3_64(s.as_bytes()))
}

impl Linker {
    pub fn new(cfg: LinkConfig) -> Self {
        Linker {
            cfg,
            text: TemplateIndex::new(cfg.similar),
            ads: Vec::new(),
            ad_ids: FxHashMap::default(),
            idents: Vec::new(),
            ident_ids: Default::default(),
            places: Interner::default(),
            names: Interner::default(),
            net: Dsu::default(),
            idn: Dsu::default(),
            owner: Vec::new(),
            template_node: FxHashMap::default(),
            template_stats: FxHashMap::default(),
        }
    }

    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// Number of ads stored.
    pub fn len(&self) -> usize {
        self.ads.len()
    }

    /// The ids of the linked ads, in the order they were linked.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.ads.iter().map(|a| &*a.id)
    }

    pub fn is_empty(&self) -> bool {
        self.ads.is_empty()
    }

    /// Adds one ad. Re-sending a known id changes nothing (`duplicate: true`). A refused input
    /// leaves the linker untouched.
    pub fn insert(&mut self, input: LinkInput) -> Result<Inserted, LinkError> {
        let sim = &self.cfg.similar;
        check(&input, sim.lsh.bands, sim.align_max_tokens)?;
        if let Some(&index) = self.ad_ids.get(input.id.as_str()) {
            return Ok(Inserted {
                index,
                duplicate: true,
                regrouped: Vec::new(),
            });
        }
        let ad = self.ads.len() as u32;
        let joined = self.text.insert(&input.fingerprint);
        let node = self.push_node(Owner::Ad(ad));
        let city = place_key(input.city.as_deref(), input.region.as_deref())
            .map(|k| self.places.intern(&k));
        let names: Box<[u32]> = dedup(
            input
                .names
                .iter()
                .map(|n| self.names.intern(&n.trim().to_lowercase())),
        );
        let idents = self.intern_idents(&input);
        self.ad_ids.insert(input.id.as_str().into(), ad);
        self.ads.push(AdEntry {
            id: input.id.into_boxed_str(),
            posted_at: input.posted_at,
            city,
            node,
            idents: idents.clone(),
            names,
            content_off: false,
        });
        // Contacts first: they decide who is one poster, which the content guard needs.
        let mut split = Vec::new();
        for &x in idents.iter() {
            if self.idents[x as usize].kind.is_contact() && self.judge_contact(x, &idents) {
                split.push(self.idents[x as usize].node);
            }
        }
        // Posters of one ad that this ad now joins become established: what they had shared
        // with others is judged again (a young poster's photo may now bridge two posters).
        let lone = self.lone_posters(ad);
        self.link_identity(ad);
        for &n in &split {
            self.rebuild_identity(n);
        }
        for a in lone {
            split.extend(self.rejudge_content_of(a));
        }
        for &x in idents.iter() {
            if self.idents[x as usize].kind == IdentKind::Image {
                self.idents[x as usize].members.push(ad);
                if self.judge_image(x) {
                    split.push(self.idents[x as usize].node);
                }
            }
        }
        self.bridge_check(ad);
        for &x in idents.iter() {
            let e = &self.idents[x as usize];
            if e.hub.is_some() || (e.kind.is_content() && self.ads[ad as usize].content_off) {
                continue;
            }
            self.net.union(node, e.node);
            if e.kind == IdentKind::Image {
                // Its other one-off users may now bridge two posters through it.
                for u in self.idents[x as usize].members.clone() {
                    if u != ad && self.bridge_check(u) {
                        split.push(self.ads[u as usize].node);
                    }
                }
            }
        }
        if let Some(n) = self.link_template(ad, &joined) {
            split.push(n);
        }
        let mut regrouped = Vec::new();
        for n in split {
            regrouped.extend(self.rebuild(n));
        }
        regrouped.sort_unstable();
        regrouped.dedup();
        Ok(Inserted {
            index: ad,
            duplicate: false,
            regrouped,
        })
    }

    fn push_node(&mut self, owner: Owner) -> u32 {
        // In the poster graph only ads weigh: a group's weight is its number of ads.
        self.idn
            .push_weighted(u32::from(matches!(owner, Owner::Ad(_))));
        self.owner.push(owner);
        self.net.push()
    }

    fn intern_idents(&mut self, input: &LinkInput) -> Box<[u32]> {
        let lists: [(IdentKind, &[String]); 5] = [
            (IdentKind::Phone, &input.phones),
            (IdentKind::Email, &input.emails),
            (IdentKind::Handle, &input.handles),
            (IdentKind::Payment, &input.payments),
            (IdentKind::Image, &input.images),
        ];
        let mut out: Vec<u32> = Vec::new();
        let account = input
            .account
            .iter()
            .map(|a| (IdentKind::Account, a.as_str()));
        let all = lists
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (*k, v.as_str())))
            .chain(account);
        for (kind, raw) in all {
            let value = normalize_value(kind, raw);
            let x = self.intern_ident(kind, &value);
            if !out.contains(&x) {
                out.push(x);
                let e = &mut self.idents[x as usize];
                e.ads = e.ads.saturating_add(1);
            }
        }
        out.into_boxed_slice()
    }

    pub(crate) fn intern_ident(&mut self, kind: IdentKind, value: &str) -> u32 {
        if let Some(&x) = self.ident_ids[kind_slot(kind)].get(value) {
            return x;
        }
        let x = self.idents.len() as u32;
        let node = self.push_node(Owner::Ident);
        self.ident_ids[kind_slot(kind)].insert(value.into(), x);
        self.idents.push(Ident {
            kind,
            value: value.into(),
            node,
            ads: 0,
            hub: None,
            co: None,
            members: Vec::new(),
        });
        x
    }

    /// Counts the other contacts beside contact `x` in an ad carrying `idents`.
    fn note_co_contacts(&mut self, x: u32, idents: &[u32]) {
        let others: Vec<u32> = idents
            .iter()
            .copied()
            .filter(|&y| y != x && self.idents[y as usize].kind.is_contact())
            .collect();
        if !others.is_empty() {
            self.idents[x as usize]
                .co
                .get_or_insert_with(Default::default)
                .extend(others);
        }
    }

    /// Updates contact `x` for a new ad; true when the guard withdraws it now.
    fn judge_contact(&mut self, x: u32, idents: &[u32]) -> bool {
        if self.idents[x as usize].hub.is_some() {
            return false;
        }
        self.note_co_contacts(x, idents);
        let e = &self.idents[x as usize];
        let co = e.co.as_ref().map_or(0, |c| c.len() as u32);
        match self.cfg.hub.judge_contact(e.kind, &e.value, e.ads, co) {
            Some(note) => {
                let e = &mut self.idents[x as usize];
                e.hub = Some(Box::new(note));
                e.co = None;
                true
            }
            None => false,
        }
    }

    /// Content is judged at every use while small, then at each doubling (the cost of judging
    /// grows with the uses, so this keeps it linear overall).
    fn judge_now(uses: usize) -> bool {
        uses <= 64 || uses.is_power_of_two()
    }

    /// The identified posters (groups of ads joined by accounts and contacts) that `ads` fall
    /// in, each as the number of ads it has posted in all.
    fn poster_groups(&self, ads: &[u32]) -> Vec<u32> {
        let mut groups: Vec<u32> = Vec::new();
        for &a in ads {
            let e = &self.ads[a as usize];
            let identified = e.idents.iter().any(|&x| {
                let i = &self.idents[x as usize];
                i.hub.is_none() && (i.kind.is_contact() || i.kind == IdentKind::Account)
            });
            if !identified {
                continue;
            }
            let root = self.idn.root(e.node);
            if !groups.contains(&root) {
                groups.push(root);
            }
        }
        groups
            .into_iter()
            .map(|r| self.idn.group_weight(r))
            .collect()
    }

    /// Older ads that are posters of one ad alone and that ad `a` is about to join.
    fn lone_posters(&self, a: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for &x in self.ads[a as usize].idents.iter() {
            let i = &self.idents[x as usize];
            if i.hub.is_some() || !(i.kind.is_contact() || i.kind == IdentKind::Account) {
                continue;
            }
            if self.idn.group_weight(i.node) == 1 {
                let root = self.idn.root(i.node);
                for n in self.idn.members(root) {
                    if let Owner::Ad(b) = self.owner[n as usize]
                        && b != a
                        && !out.contains(&b)
                    {
                        out.push(b);
                    }
                }
            }
        }
        out
    }

    /// Judges again the images and template of ad `a`; returns nodes to rebuild.
    fn rejudge_content_of(&mut self, a: u32) -> Vec<u32> {
        let mut nodes = Vec::new();
        for i in 0..self.ads[a as usize].idents.len() {
            let x = self.ads[a as usize].idents[i];
            if self.idents[x as usize].kind != IdentKind::Image {
                continue;
            }
            if self.judge_image(x) {
                nodes.push(self.idents[x as usize].node);
                continue;
            }
            // One-off users of the image may now bridge this poster and another.
            if self.idents[x as usize].members.len() <= 64 {
                for u in self.idents[x as usize].members.clone() {
                    if u != a && self.bridge_check(u) {
                        nodes.push(self.ads[u as usize].node);
                    }
                }
            }
        }
        if self.text.cluster_size(a) >= 2 {
            let root = self.text.root(a);
            if self.judge_template(root, a)
                && let Some(&n) = self.template_node.get(&root)
            {
                nodes.push(n);
            }
        }
        nodes
    }

    /// Judges the template cluster at `root` (`ad` is one of its ads); true when the guard
    /// withdraws it now.
    fn judge_template(&mut self, root: u32, ad: u32) -> bool {
        let Some(st) = self.template_stats.get(&root) else {
            return false;
        };
        if st.guard.is_some() || !Self::judge_now(st.members.len()) {
            return false;
        }
        let groups = self.poster_groups(&st.members);
        let id = stable_id("t", &self.template_seed_id(ad));
        let note =
            self.cfg
                .hub
                .judge_content(IdentKind::Template, &id, st.members.len() as u32, &groups);
        match (note, self.template_stats.get_mut(&root)) {
            (Some(note), Some(st)) => {
                st.guard = Some(Box::new(note));
                st.members = Vec::new();
                true
            }
            _ => false,
        }
    }

    /// Judges image `x` after a new use; true when the guard withdraws it now.
    fn judge_image(&mut self, x: u32) -> bool {
        let e = &self.idents[x as usize];
        if e.hub.is_some() || !Self::judge_now(e.members.len()) {
            return false;
        }
        let groups = self.poster_groups(&e.members);
        let note = self.cfg.hub.judge_content(e.kind, &e.value, e.ads, &groups);
        match note {
            Some(note) => {
                let e = &mut self.idents[x as usize];
                e.hub = Some(Box::new(note));
                e.members = Vec::new();
                true
            }
            None => false,
        }
    }

    fn template_linked(&self, ad: u32) -> bool {
        self.text.tokens(ad).len() >= self.cfg.min_template_link_tokens as usize
    }

    /// Whether the template cluster rooted at `root` is withdrawn by the guard.
    fn template_guarded(&self, root: u32) -> bool {
        self.template_stats
            .get(&root)
            .is_some_and(|s| s.guard.is_some())
    }

    /// Files the template side of a new ad; returns a node whose group must be rebuilt when
    /// the template was just withdrawn.
    fn link_template(&mut self, ad: u32, joined: &Joined) -> Option<u32> {
        if joined.absorbed.is_empty() {
            return None;
        }
        let mut parts: Vec<TemplateStats> = Vec::new();
        let mut fresh = vec![ad];
        let mut nodes = Vec::new();
        for &r in &joined.absorbed {
            match self.template_stats.remove(&r) {
                Some(st) => parts.push(st),
                None => fresh.push(r),
            }
            if let Some(n) = self.template_node.remove(&r) {
                nodes.push(n);
            }
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.members.len()));
        let mut st = if parts.is_empty() {
            TemplateStats::default()
        } else {
            parts.remove(0)
        };
        let was_guarded = st.guard.is_some();
        for p in parts {
            st.members.extend(p.members);
            if st.guard.is_none() {
                st.guard = p.guard;
            }
        }
        st.members.extend(&fresh);
        let inherited = st.guard.is_some() && !was_guarded;
        self.template_stats.insert(joined.root, st);
        let just_guarded = inherited || self.judge_template(joined.root, ad);
        let st = self.template_stats.get(&joined.root)?;
        let guarded = st.guard.is_some();
        let tnode = match nodes.first() {
            Some(&n) => n,
            None => self.push_node(Owner::Template),
        };
        self.template_node.insert(joined.root, tnode);
        for &n in nodes.iter().skip(1) {
            self.net.union(tnode, n);
        }
        if guarded {
            return (just_guarded || nodes.len() > 1).then_some(tnode);
        }
        for a in fresh {
            if self.template_linked(a) && !self.ads[a as usize].content_off {
                self.net.union(self.ads[a as usize].node, tnode);
            }
        }
        None
    }

    fn template_seed_id(&self, ad: u32) -> String {
        self.text
            .seed_of(ad)
            .map(|s| self.ads[s as usize].id.to_string())
            .unwrap_or_default()
    }

    /// Joins ad `a` to its unguarded accounts and contacts in the poster graph.
    fn link_identity(&mut self, a: u32) {
        let node = self.ads[a as usize].node;
        for i in 0..self.ads[a as usize].idents.len() {
            let x = &self.idents[self.ads[a as usize].idents[i] as usize];
            if x.hub.is_none() && (x.kind.is_contact() || x.kind == IdentKind::Account) {
                let n = x.node;
                self.idn.union(node, n);
            }
        }
    }

    /// Takes apart the poster group of `node` and joins it again without withdrawn contacts.
    fn rebuild_identity(&mut self, node: u32) {
        let nodes = self.idn.members(node);
        self.idn.reset(&nodes);
        for n in nodes {
            if let Owner::Ad(a) = self.owner[n as usize] {
                self.link_identity(a);
            }
        }
    }

    /// Takes apart the network of `node` and joins it again from its ads' current links;
    /// returns its ads.
    fn rebuild(&mut self, node: u32) -> Vec<u32> {
        let nodes = self.net.members(node);
        self.net.reset(&nodes);
        let mut ads = Vec::new();
        for n in nodes {
            let Owner::Ad(a) = self.owner[n as usize] else {
                continue;
            };
            self.relink(a);
            ads.push(a);
        }
        ads
    }

    /// Marks ad `a` as a bridge when it is a poster of one ad (or none) whose copied content
    /// reaches two or more established posters; true when it was just marked.
    fn bridge_check(&mut self, a: u32) -> bool {
        const SCAN: usize = 64;
        let e = &self.ads[a as usize];
        if e.content_off || self.idn.group_weight(e.node) >= 2 {
            return false;
        }
        let own = self.idn.root(e.node);
        let mut targets: Vec<u32> = Vec::new();
        let consider = |b: u32, targets: &mut Vec<u32>| {
            let r = self.idn.root(self.ads[b as usize].node);
            if r != own && self.idn.group_weight(r) >= 2 && !targets.contains(&r) {
                targets.push(r);
            }
        };
        for &x in e.idents.iter() {
            let i = &self.idents[x as usize];
            if i.kind == IdentKind::Image && i.hub.is_none() && i.members.len() <= SCAN {
                for &b in &i.members {
                    consider(b, &mut targets);
                }
            }
        }
        if self.text.cluster_size(a) >= 2 && self.template_linked(a) {
            let root = self.text.root(a);
            if let Some(st) = self.template_stats.get(&root)
                && st.guard.is_none()
                && st.members.len() <= SCAN
            {
                for &b in &st.members {
                    consider(b, &mut targets);
                }
            }
        }
        if targets.len() >= 2 {
            self.ads[a as usize].content_off = true;
            return true;
        }
        false
    }

    /// Joins ad `a` to its unguarded identifiers and its template (network graph only).
    pub(crate) fn relink(&mut self, a: u32) {
        let node = self.ads[a as usize].node;
        let off = self.ads[a as usize].content_off;
        for i in 0..self.ads[a as usize].idents.len() {
            let x = self.ads[a as usize].idents[i] as usize;
            if self.idents[x].hub.is_none() && !(off && self.idents[x].kind.is_content()) {
                self.net.union(node, self.idents[x].node);
            }
        }
        let root = self.text.root(a);
        if !off
            && self.text.cluster_size(a) >= 2
            && self.template_linked(a)
            && !self.template_guarded(root)
        {
            let tnode = match self.template_node.get(&root) {
                Some(&n) => n,
                None => {
                    let n = self.push_node(Owner::Template);
                    self.template_node.insert(root, n);
                    n
                }
            };
            self.net.union(node, tnode);
        }
    }

    /// The id of the ad with internal index `index`.
    pub fn id_at(&self, index: u32) -> Option<&str> {
        self.ads.get(index as usize).map(|a| &*a.id)
    }

    /// Internal index of an ad id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.ad_ids.get(id).copied()
    }

    /// The template of an ad, when it has near-duplicates.
    pub fn template_of(&self, id: &str) -> Option<TemplateRef> {
        let ad = self.index_of(id)?;
        let t = self.text.template_of(ad)?;
        Some(TemplateRef {
            id: stable_id("t", &self.ads[t.seed as usize].id),
            text: t.text,
            slots: t.slots,
        })
    }

    /// How an ad differs from its template: kept words, slot fills, additions, omissions.
    pub fn template_diff(&self, id: &str) -> Option<Vec<DiffPart>> {
        self.text.diff_of(self.index_of(id)?)
    }

    /// The network of an ad, when it is linked to at least one other ad. Costs the size of the
    /// network; to label every ad, walk [`Linker::networks`] once instead.
    pub fn network_of(&self, id: &str) -> Option<Network> {
        let ad = self.index_of(id)?;
        let root = self.net.root(self.ads[ad as usize].node);
        self.network_at(root)
    }

    /// Every network (two or more ads), oldest first.
    pub fn networks(&self) -> impl Iterator<Item = Network> + '_ {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        self.ads.iter().filter_map(move |a| {
            let root = self.net.root(a.node);
            if !seen.insert(root) || self.net.group_size(root) < 2 {
                return None;
            }
            self.network_at(root)
        })
    }

    /// The oldest ad (internal index) of every network of two or more ads, oldest first: the
    /// order of [`Linker::networks`]. With [`Linker::network_at_index`] the networks can be
    /// built on several threads (the linker is only read).
    pub fn network_heads(&self) -> Vec<u32> {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        let mut out = Vec::new();
        for (i, a) in self.ads.iter().enumerate() {
            let root = self.net.root(a.node);
            if seen.insert(root) && self.net.group_size(root) >= 2 {
                out.push(i as u32);
            }
        }
        out
    }

    /// The network of the ad with internal index `index`, when it is linked to another ad.
    pub fn network_at_index(&self, index: u32) -> Option<Network> {
        let a = self.ads.get(index as usize)?;
        self.network_at(self.net.root(a.node))
    }

    fn network_at(&self, root: u32) -> Option<Network> {
        let mut members: Vec<u32> = self
            .net
            .members(root)
            .into_iter()
            .filter_map(|n| match self.owner[n as usize] {
                Owner::Ad(a) => Some(a),
                _ => None,
            })
            .collect();
        if members.len() < 2 {
            return None;
        }
        members.sort_unstable();
        let mut builder = FeatureBuilder::default();
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        let mut templates: FxHashMap<u32, u32> = FxHashMap::default();
        let mut guarded_templates: FxHashSet<u32> = FxHashSet::default();
        let mut guarded_notes: Vec<HubNote> = Vec::new();
        for &a in &members {
            let e = &self.ads[a as usize];
            let mut account = None;
            let mut phones = Vec::new();
            for &x in e.idents.iter() {
                let ident = &self.idents[x as usize];
                *counts.entry(x).or_insert(0) += 1;
                if ident.hub.is_some() {
                    continue;
                }
                match ident.kind {
                    IdentKind::Account => account = Some(&*ident.value),
                    IdentKind::Phone => phones.push(&*ident.value),
                    _ => {}
                }
            }
            let template = (self.text.cluster_size(a) >= 2).then(|| self.text.root(a));
            if let Some(t) = template {
                if let Some(note) = self.template_stats.get(&t).and_then(|s| s.guard.as_deref()) {
                    if guarded_templates.insert(t) {
                        guarded_notes.push(note.clone());
                    }
                } else if self.template_linked(a) {
                    *templates.entry(t).or_insert(0) += 1;
                }
            }
            builder.add(MemberFacts {
                posted_at: e.posted_at,
                city: e.city.map(|c| self.places.get(c)),
                account,
                phones,
                names: e.names.iter().map(|&n| self.names.get(n)).collect(),
                template,
            });
        }
        let mut evidence: Vec<(IdentKind, Evidence)> = Vec::new();
        let mut guarded: Vec<HubNote> = Vec::new();
        let mut ident_list: Vec<(u32, u32)> = counts.into_iter().collect();
        ident_list.sort_unstable();
        for (x, n) in ident_list {
            let ident = &self.idents[x as usize];
            if let Some(h) = &ident.hub {
                guarded.push((**h).clone());
            } else if n >= 2 {
                evidence.push((
                    ident.kind,
                    Evidence {
                        kind: ident.kind.as_str().to_owned(),
                        value: ident.value.to_string(),
                        ads: n,
                        text: None,
                    },
                ));
            }
        }
        evidence.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.ads.cmp(&a.1.ads))
                .then(a.1.value.cmp(&b.1.value))
        });
        let mut tlist: Vec<(u32, u32)> = templates.into_iter().filter(|&(_, n)| n >= 2).collect();
        tlist.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let has = |k: IdentKind| evidence.iter().any(|(kind, _)| *kind == k);
        let mut reasons: Vec<String> = [
            IdentKind::Phone,
            IdentKind::Email,
            IdentKind::Handle,
            IdentKind::Payment,
            IdentKind::Account,
        ]
        .into_iter()
        .filter(|&k| has(k))
        .map(|k| k.as_str().to_owned())
        .collect();
        if !tlist.is_empty() {
            reasons.push("template".to_owned());
        }
        if has(IdentKind::Image) {
            reasons.push("image".to_owned());
        }
        let mut evidence: Vec<Evidence> = evidence.into_iter().map(|(_, e)| e).collect();
        for (t, n) in tlist {
            if let Some(view) = self.text.template_of(t) {
                evidence.push(Evidence {
                    kind: "template".to_owned(),
                    value: stable_id("t", &self.ads[view.seed as usize].id),
                    ads: n,
                    text: Some(view.text),
                });
            }
        }
        guarded.extend(guarded_notes);
        Some(Network {
            id: stable_id("n", &self.ads[members[0] as usize].id),
            members: members
                .iter()
                .map(|&a| self.ads[a as usize].id.to_string())
                .collect(),
            reasons,
            evidence,
            guarded,
            features: builder.finish(),
        })
    }
}

/// The linker's ads as a snapshot keeps them (the look-up by id is rebuilt from them).
pub(crate) type SavedAds = Vec<AdEntry>;
/// The linker's identifiers as a snapshot keeps them (the look-ups by value are rebuilt).
pub(crate) type SavedIdents = Vec<Ident>;

/// The rest of a [`Linker`] as a snapshot keeps it: everything but its text index, its ads and
/// its identifiers, which are saved apart so that each part can be read on its own thread.
#[derive(serde::Serialize)]
pub(crate) struct SavedLinker<'a> {
    places: &'a [Box<str>],
    names: &'a [Box<str>],
    net: &'a Dsu,
    idn: &'a Dsu,
    owner: &'a [Owner],
    template_node: Vec<(u32, u32)>,
    template_stats: Vec<(u32, &'a TemplateStats)>,
}

/// [`SavedLinker`] as read back.
#[derive(serde::Deserialize)]
pub(crate) struct LoadedLinker {
    places: Vec<Box<str>>,
    names: Vec<Box<str>>,
    net: Dsu,
    idn: Dsu,
    owner: Vec<Owner>,
    template_node: Vec<(u32, u32)>,
    template_stats: Vec<(u32, TemplateStats)>,
}

/// The ads' look-up by id.
pub(crate) fn index_ads(ads: &[AdEntry]) -> Result<FxHashMap<Box<str>, u32>, &'static str> {
    let mut ids = FxHashMap::with_capacity_and_hasher(ads.len(), Default::default());
    for (i, a) in ads.iter().enumerate() {
        if ids.insert(a.id.clone(), i as u32).is_some() {
            return Err("an ad id is listed twice");
        }
    }
    Ok(ids)
}

/// The identifiers' look-ups by value, one per kind.
pub(crate) fn index_idents(
    idents: &[Ident],
) -> Result<[FxHashMap<Box<str>, u32>; 7], &'static str> {
    let mut counts = [0usize; 7];
    for e in idents {
        counts[kind_slot(e.kind)] += 1;
    }
    let mut maps: [FxHashMap<Box<str>, u32>; 7] =
        counts.map(|n| FxHashMap::with_capacity_and_hasher(n, Default::default()));
    for (x, e) in idents.iter().enumerate() {
        if maps[kind_slot(e.kind)]
            .insert(e.value.clone(), x as u32)
            .is_some()
        {
            return Err("an identifier is listed twice");
        }
    }
    Ok(maps)
}

impl Linker {
    /// Everything but the text index, the ads and the identifiers, for a snapshot.
    pub(crate) fn saved_rest(&self) -> SavedLinker<'_> {
        let mut template_node: Vec<(u32, u32)> =
            self.template_node.iter().map(|(&r, &n)| (r, n)).collect();
        template_node.sort_unstable();
        let mut template_stats: Vec<(u32, &TemplateStats)> =
            self.template_stats.iter().map(|(&r, s)| (r, s)).collect();
        template_stats.sort_unstable_by_key(|&(r, _)| r);
        SavedLinker {
            places: &self.places.items,
            names: &self.names.items,
            net: &self.net,
            idn: &self.idn,
            owner: &self.owner,
            template_node,
            template_stats,
        }
    }

    /// The linker a snapshot saved, from its parts read back (`ads` and `idents` with their
    /// look-ups, [`index_ads`] and [`index_idents`]); an error when they do not fit together.
    pub(crate) fn from_saved(
        cfg: LinkConfig,
        text: TemplateIndex,
        (ads, ad_ids): (Vec<AdEntry>, FxHashMap<Box<str>, u32>),
        (idents, ident_ids): (Vec<Ident>, [FxHashMap<Box<str>, u32>; 7]),
        rest: LoadedLinker,
    ) -> Result<Linker, &'static str> {
        let LoadedLinker {
            places,
            names,
            net,
            idn,
            owner,
            template_node,
            template_stats,
        } = rest;
        let nodes = owner.len();
        if text.len() != ads.len() || !net.fits(nodes) || !idn.fits(nodes) {
            return Err("linker lists differ in length");
        }
        let node_ok = |n: u32| (n as usize) < nodes;
        let ad_ok = |a: &u32| (*a as usize) < ads.len();
        if ads
            .iter()
            .any(|a| !node_ok(a.node) || a.idents.iter().any(|&x| x as usize >= idents.len()))
            || idents
                .iter()
                .any(|e| !node_ok(e.node) || !e.members.iter().all(ad_ok))
            || template_node
                .iter()
                .any(|&(r, n)| !ad_ok(&r) || !node_ok(n))
            || template_stats
                .iter()
                .any(|(r, s)| !ad_ok(r) || !s.members.iter().all(ad_ok))
            || owner.iter().any(|o| match o {
                Owner::Ad(a) => !ad_ok(a),
                _ => false,
            })
        {
            return Err("linker refers to an ad, identifier or node it does not hold");
        }
        let mut tn = FxHashMap::with_capacity_and_hasher(template_node.len(), Default::default());
        tn.extend(template_node);
        let mut ts = FxHashMap::with_capacity_and_hasher(template_stats.len(), Default::default());
        ts.extend(template_stats);
        Ok(Linker {
            cfg,
            text,
            ads,
            ad_ids,
            idents,
            ident_ids,
            places: Interner::from_items(places)?,
            names: Interner::from_items(names)?,
            net,
            idn,
            owner,
            template_node: tn,
            template_stats: ts,
        })
    }
}

fn dedup(it: impl Iterator<Item = u32>) -> Box<[u32]> {
    let mut v: Vec<u32> = Vec::new();
    for x in it {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v.into_boxed_slice()
}

/// `city, region` lower-cased and trimmed; `None` without a city.
fn place_key(city: Option<&str>, region: Option<&str>) -> Option<String> {
    let city = city.map(str::trim).filter(|c| !c.is_empty())?;
    let mut k = city.to_lowercase();
    if let Some(r) = region.map(str::trim).filter(|r| !r.is_empty()) {
        k.push_str(", ");
        k.push_str(&r.to_lowercase());
    }
    Some(k)
}

/// Identifier values compared case-insensitively where the kind is case-insensitive.
fn normalize_value(kind: IdentKind, v: &str) -> std::borrow::Cow<'_, str> {
    let v = v.trim();
    match kind {
        IdentKind::Email | IdentKind::Handle | IdentKind::Image
            if !v.is_ascii() || v.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            v.to_lowercase().into()
        }
        _ => v.into(),
    }
}
