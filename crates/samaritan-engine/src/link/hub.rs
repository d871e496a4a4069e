//! The hub guard: links that many unrelated posters share must not glue them together.
//!
//! Two kinds of link are shared by strangers for different reasons, and the guard treats them
//! differently:
//!
//! * **Contacts** (phone, email, handle, payment id) are chosen by whoever posts. A platform's
//!   support line, an agency switchboard or a payment processor's handle turns up *beside* each
//!   poster's own contact. A contact seen beside at least `min_contacts` different other
//!   contacts, and beside a new one in at least `min_ratio` of its ads, is a shared line. A
//!   trafficker's phone, a business's recruiting line or a persona's handle is the contact
//!   itself: its ads carry few other contacts, or the same few again, and it keeps linking.
//! * **Content** (an image, a template's wording) is copied. A stock or stolen photo, or
//!   boilerplate wording, is used by posters who have nothing else in common. Content used by at
//!   least `min_copies` different posters (accounts or contacts, whichever is more) at
//!   `min_ratio` per ad, or used repeatedly (two ads or more) by at least `min_established`
//!   posters with identities of their own, is shared content. An operator reusing its photos
//!   and text across its few accounts and phones keeps linking.
//!
//! Accounts are never guarded: an account is the poster. A withdrawn link stops linking, the
//! groups it had joined are split again, and the reason stays with the networks for the
//! reviewer. Once withdrawn, always withdrawn: more data only makes the decision more certain.

use rustc_hash::FxHashMap;

use super::ident::{HubNote, IdentKind};

/// Thresholds of the hub guard.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HubGuard {
    /// Different other contacts a contact must be seen beside before it can be a shared line.
    pub min_contacts: u32,
    /// Different posters a piece of content must be used by before it can be shared content.
    pub min_copies: u32,
    /// Different others per ad at or above which the link is shared.
    pub min_ratio: f64,
    /// Posters using a piece of content repeatedly, at or above which it is shared content.
    pub min_established: u32,
}

impl Default for HubGuard {
    fn default() -> Self {
        HubGuard {
            min_contacts: 10,
            min_copies: 5,
            min_ratio: 0.5,
            min_established: 4,
        }
    }
}

/// Who uses a link: per account and per contact, in how many of the link's ads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    accounts: FxHashMap<u32, u32>,
    contacts: FxHashMap<u32, u32>,
    /// Accounts / contacts counted in two or more ads.
    repeat_accounts: u32,
    repeat_contacts: u32,
}

fn bump(map: &mut FxHashMap<u32, u32>, repeats: &mut u32, key: u32, n: u32) {
    let c = map.entry(key).or_insert(0);
    if *c < 2 && *c + n >= 2 {
        *repeats += 1;
    }
    *c += n;
}

impl Usage {
    pub fn add_account(&mut self, id: u32) {
        bump(&mut self.accounts, &mut self.repeat_accounts, id, 1);
    }

    pub fn add_contact(&mut self, id: u32) {
        bump(&mut self.contacts, &mut self.repeat_contacts, id, 1);
    }

    /// Adds another usage (two templates merged).
    pub fn absorb(&mut self, other: Usage) {
        for (k, n) in other.accounts {
            bump(&mut self.accounts, &mut self.repeat_accounts, k, n);
        }
        for (k, n) in other.contacts {
            bump(&mut self.contacts, &mut self.repeat_contacts, k, n);
        }
    }

    pub fn contacts(&self) -> u32 {
        self.contacts.len() as u32
    }

    /// Distinct posters: the larger of distinct accounts and distinct contacts.
    pub fn posters(&self) -> u32 {
        self.accounts.len().max(self.contacts.len()) as u32
    }

    /// Posters seen in two or more ads: the larger of the repeated accounts and contacts.
    pub fn established(&self) -> u32 {
        self.repeat_accounts.max(self.repeat_contacts)
    }

    pub fn size(&self) -> usize {
        self.accounts.len() + self.contacts.len()
    }
}

impl HubGuard {
    /// Judges a contact seen in `ads` ads with `usage` (its other contacts).
    pub fn judge_contact(&self, kind: IdentKind, value: &str, ads: u32, usage: &Usage) -> Option<HubNote> {
        let co = usage.contacts();
        if !kind.is_contact() || co < self.min_contacts || f64::from(co) < self.min_ratio * f64::from(ads) {
            return None;
        }
        Some(HubNote {
            kind,
            value: value.to_owned(),
            ads,
            others: co,
            reason: format!(
                "{} appears in {ads} ads beside {co} different other contacts (guard: at least \
                 {} and {:.2} per ad): a line shared by many posters, so it links nothing",
                kind.as_str(),
                self.min_contacts,
                self.min_ratio
            ),
        })
    }

    /// Judges a piece of content (an image or a template) used in `ads` ads as `usage` says.
    pub fn judge_content(&self, kind: IdentKind, value: &str, ads: u32, usage: &Usage) -> Option<HubNote> {
        let posters = usage.posters();
        let established = usage.established();
        let crowd = posters >= self.min_copies && f64::from(posters) >= self.min_ratio * f64::from(ads);
        let several = established >= self.min_established;
        if !crowd && !several {
            return None;
        }
        let why = if crowd {
            format!(
                "used in {ads} ads by {posters} different posters (guard: at least {} and {:.2} per ad)",
                self.min_copies, self.min_ratio
            )
        } else {
            format!(
                "used repeatedly by {established} posters with identities of their own (guard: {})",
                self.min_established
            )
        };
        Some(HubNote {
            kind,
            value: value.to_owned(),
            ads,
            others: posters,
            reason: format!("{} {why}: content shared by many posters, so it links nothing", kind.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(accounts: &[(u32, u32)], contacts: &[(u32, u32)]) -> Usage {
        let mut u = Usage::default();
        for &(id, n) in accounts {
            for _ in 0..n {
                u.add_account(id);
            }
        }
        for &(id, n) in contacts {
            for _ in 0..n {
                u.add_contact(id);
            }
        }
        u
    }

    fn distinct(n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|i| (i, 1)).collect()
    }

    #[test]
    fn shared_line_is_guarded_and_a_sole_contact_is_not() {
        let g = HubGuard::default();
        let hub = g.judge_contact(IdentKind::Phone, "5550100", 30, &usage(&[], &distinct(28))).unwrap();
        assert!(hub.reason.contains("30 ads beside 28"), "{}", hub.reason);
        // A recruiting line used alone in 500 ads.
        assert!(g.judge_contact(IdentKind::Phone, "5550199", 500, &Usage::default()).is_none());
        // Rotating phones of one operator.
        assert!(g.judge_contact(IdentKind::Phone, "5550142", 40, &usage(&[], &[(1, 20), (2, 19)])).is_none());
        // Many co-contacts but far fewer than the ads.
        assert!(g.judge_contact(IdentKind::Phone, "5550143", 200, &usage(&[], &distinct(12))).is_none());
        // Accounts are the poster; content is judged elsewhere.
        assert!(g.judge_contact(IdentKind::Account, "u1", 30, &usage(&[], &distinct(30))).is_none());
        assert!(g.judge_contact(IdentKind::Template, "t", 30, &usage(&[], &distinct(30))).is_none());
    }

    #[test]
    fn shared_content_is_guarded_and_an_operators_content_is_not() {
        let g = HubGuard::default();
        // A stock photo posted once each by eight accounts.
        let n = g.judge_content(IdentKind::Image, "sha256:ab", 9, &usage(&distinct(8), &[])).unwrap();
        assert!(n.reason.contains("8 different posters"), "{}", n.reason);
        // Boilerplate reused by four companies, each posting it many times.
        let four = usage(&[(1, 30), (2, 20), (3, 10), (4, 5)], &[(9, 30), (8, 20), (7, 10), (6, 5)]);
        assert!(g.judge_content(IdentKind::Template, "t-1", 65, &four).is_some());
        // An operator: thirteen ads, three accounts, three rotating phones.
        let op = usage(&[(1, 5), (2, 5), (3, 3)], &[(7, 6), (8, 4), (9, 3)]);
        assert!(g.judge_content(IdentKind::Template, "t-2", 13, &op).is_none());
        assert!(g.judge_content(IdentKind::Image, "sha256:cd", 13, &op).is_none());
        // A business: one account, one phone.
        let biz = usage(&[(1, 40)], &[(5, 40)]);
        assert!(g.judge_content(IdentKind::Template, "t-3", 40, &biz).is_none());
        // Too few to judge.
        assert!(g.judge_content(IdentKind::Template, "t-4", 4, &usage(&distinct(4), &[])).is_none());
    }

    #[test]
    fn merged_usage_counts_repeats_once() {
        let mut a = usage(&[(1, 1)], &[(5, 1)]);
        a.absorb(usage(&[(1, 1), (2, 3)], &[]));
        assert_eq!(a.established(), 2);
        assert_eq!(a.posters(), 2);
        assert_eq!(a.size(), 3);
    }
}
