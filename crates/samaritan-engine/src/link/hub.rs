//! The hub guard: identifiers that many unrelated posters share must not glue them together.
//!
//! A platform's support line, an agency's switchboard, a payment processor's handle or a stock
//! image turn up beside each poster's *own* contact details. Linking through them would make
//! one giant "network" of strangers. A trafficker's phone, a business's recruiting line or a
//! persona's handle are different: they are the contact, and the ads that carry them carry few
//! other contacts, or the same few again.
//!
//! So the guard looks at the data, not at a list: for each contact identifier it counts the
//! ads that carry it and the distinct *other* contacts seen beside it. When an identifier has
//! been seen beside at least `min_contacts` different contacts, and beside a new one in at least
//! `min_ratio` of its ads, it is a shared line: it stops linking, the groups it had joined are
//! split again, and the reason is kept for the reviewer. Accounts are never guarded — an
//! account is the poster. Once a hub, always a hub (the decision only gets more certain).

use super::ident::{HubNote, IdentKind};

/// Thresholds of the hub guard.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HubGuard {
    /// Distinct other contacts an identifier must be seen beside before it can be a hub.
    pub min_contacts: u32,
    /// Distinct other contacts per ad carrying it, at or above which it is a hub.
    pub min_ratio: f64,
    /// Posters that each use a template for two or more ads, at or above which the template
    /// is shared wording rather than one author's.
    pub template_established: u32,
}

impl Default for HubGuard {
    fn default() -> Self {
        HubGuard {
            min_contacts: 10,
            min_ratio: 0.5,
            template_established: 4,
        }
    }
}

impl HubGuard {
    /// Judges an identifier seen in `ads` ads beside `co_contacts` distinct other contacts.
    pub fn judge(&self, kind: IdentKind, value: &str, ads: u32, co_contacts: u32) -> Option<HubNote> {
        if !kind.is_contact() || co_contacts < self.min_contacts {
            return None;
        }
        if f64::from(co_contacts) < self.min_ratio * f64::from(ads) {
            return None;
        }
        Some(HubNote {
            kind,
            value: value.to_owned(),
            ads,
            co_contacts,
            reason: format!(
                "{} appears in {ads} ads beside {co_contacts} different other contacts \
                 (guard: at least {} contacts and {:.2} per ad): a line shared by many posters, \
                 so it links nothing",
                kind.as_str(),
                self.min_contacts,
                self.min_ratio
            ),
        })
    }
}

impl HubGuard {
    /// Judges a template shared by `ads` ads. `posters` is the larger of its distinct accounts
    /// and distinct contacts (images aside); `established` the larger of the accounts and of the
    /// contacts that carry two or more of its ads. Wording is not the mark of one author when
    /// many one-off posters use it (`posters` at least `min_contacts` and `min_ratio` per ad:
    /// a platform's boilerplate, a common phrasing), nor when several posters with identities
    /// of their own each use it repeatedly (`established` at least `template_established`: a
    /// staffing firm's text reused by its client companies). A business (one account, one
    /// phone) or an operator with a few rotating phones and accounts stays linked.
    pub fn judge_template(&self, id: &str, ads: u32, posters: u32, established: u32) -> Option<HubNote> {
        let crowd = posters >= self.min_contacts && f64::from(posters) >= self.min_ratio * f64::from(ads);
        let several = established >= self.template_established;
        if !crowd && !several {
            return None;
        }
        let why = if crowd {
            format!(
                "used by {ads} ads of {posters} different posters (guard: at least {} and {:.2} per ad)",
                self.min_contacts, self.min_ratio
            )
        } else {
            format!(
                "used repeatedly by {established} posters with identities of their own (guard: {})",
                self.template_established
            )
        };
        Some(HubNote {
            kind: IdentKind::Template,
            value: id.to_owned(),
            ads,
            co_contacts: posters,
            reason: format!("template {why}: wording shared by many posters, so it links nothing"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_line_is_a_hub_and_a_sole_contact_is_not() {
        let g = HubGuard::default();
        let hub = g.judge(IdentKind::Phone, "5550100", 30, 28).unwrap();
        assert!(hub.reason.contains("30 ads beside 28"));
        // A recruiting line used alone in 500 ads: no other contacts, no hub.
        assert!(g.judge(IdentKind::Phone, "5550199", 500, 0).is_none());
        // Three rotating phones of one operator: few co-contacts.
        assert!(g.judge(IdentKind::Phone, "5550142", 40, 2).is_none());
        // Many co-contacts, but far fewer than the ads: a big operator with a roster.
        assert!(g.judge(IdentKind::Phone, "5550143", 200, 12).is_none());
        // Accounts are the poster.
        assert!(g.judge(IdentKind::Account, "u1", 30, 30).is_none());
    }

    #[test]
    fn boilerplate_template_is_guarded_and_an_operator_template_is_not() {
        let g = HubGuard::default();
        assert!(g.judge_template("t-1", 900, 800, 30).is_some());
        assert!(g.judge_template("t-2", 13, 3, 3).is_none());
        assert!(g.judge_template("t-3", 40, 1, 1).is_none());
        assert!(g.judge_template("t-4", 8, 8, 0).is_none(), "too few to judge");
        let n = g.judge_template("t-5", 600, 20, 20).unwrap();
        assert!(n.reason.contains("20 posters"), "{}", n.reason);
    }
}
