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
//!   boilerplate wording, is used by posters who have nothing else in common. "Posters" here
//!   are the groups that accounts and contacts alone join (an operator rotating phones across
//!   its accounts is one poster). Content used by at least `min_copies` posters at `min_ratio`
//!   per ad, or used by at least `min_established` established posters (two ads or more each)
//!   that share no account or contact, is shared content: it may attach a one-off ad to a
//!   poster, but it does not bridge two posters. Ads with no account and no contact are not counted, so text
//!   alone (a corpus without identifiers) still links by its templates.
//!
//! Accounts are never guarded: an account is the poster. A withdrawn link stops linking, the
//! groups it had joined are split again, and the reason stays with the networks for the
//! reviewer. Once withdrawn, always withdrawn: more data only makes the decision more certain.

use super::ident::{HubNote, IdentKind};

/// Thresholds of the hub guard.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HubGuard {
    /// Different other contacts a contact must be seen beside before it can be a shared line.
    pub min_contacts: u32,
    /// Different posters a piece of content must be used by before it is shared content.
    pub min_copies: u32,
    /// Different others per ad at or above which the link is shared.
    pub min_ratio: f64,
    /// Separate established posters (two ads or more each) using a piece of content, at or
    /// above which it is shared content.
    pub min_established: u32,
}

impl Default for HubGuard {
    fn default() -> Self {
        HubGuard {
            min_contacts: 10,
            min_copies: 5,
            min_ratio: 0.5,
            min_established: 2,
        }
    }
}

impl HubGuard {
    /// Judges a contact seen in `ads` ads beside `co` distinct other contacts.
    pub fn judge_contact(
        &self,
        kind: IdentKind,
        value: &str,
        ads: u32,
        co: u32,
    ) -> Option<HubNote> {
        if !kind.is_contact()
            || co < self.min_contacts
            || f64::from(co) < self.min_ratio * f64::from(ads)
        {
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

    /// Judges a piece of content (an image or a template) used in `ads` ads, given the
    /// identified posters among them (`groups`: per group of ads joined by accounts and
    /// contacts, the ads it has posted in all; ads with neither are not counted).
    pub fn judge_content(
        &self,
        kind: IdentKind,
        value: &str,
        ads: u32,
        groups: &[u32],
    ) -> Option<HubNote> {
        let posters = groups.len() as u32;
        let established = groups.iter().filter(|&&n| n >= 2).count() as u32;
        let crowd =
            posters >= self.min_copies && f64::from(posters) >= self.min_ratio * f64::from(ads);
        let bridge = established >= self.min_established;
        if !crowd && !bridge {
            return None;
        }
        let why = if crowd {
            format!(
                "used in {ads} ads by {posters} different posters (guard: at least {} and {:.2} per ad)",
                self.min_copies, self.min_ratio
            )
        } else {
            format!(
                "used by {established} established posters (two ads or more each) who share no \
                 account or contact (guard: {})",
                self.min_established
            )
        };
        Some(HubNote {
            kind,
            value: value.to_owned(),
            ads,
            others: posters,
            reason: format!(
                "{} {why}: content shared by separate posters, so it links nothing",
                kind.as_str()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_line_is_guarded_and_a_sole_contact_is_not() {
        let g = HubGuard::default();
        let hub = g
            .judge_contact(IdentKind::Phone, "5550100", 30, 28)
            .unwrap();
        assert!(hub.reason.contains("30 ads beside 28"), "{}", hub.reason);
        // A recruiting line used alone in 500 ads.
        assert!(
            g.judge_contact(IdentKind::Phone, "5550199", 500, 0)
                .is_none()
        );
        // Rotating phones of one operator.
        assert!(
            g.judge_contact(IdentKind::Phone, "5550142", 40, 2)
                .is_none()
        );
        // Many co-contacts but far fewer than the ads.
        assert!(
            g.judge_contact(IdentKind::Phone, "5550143", 200, 12)
                .is_none()
        );
        // Accounts are the poster; content is judged elsewhere.
        assert!(g.judge_contact(IdentKind::Account, "u1", 30, 30).is_none());
        assert!(g.judge_contact(IdentKind::Template, "t", 30, 30).is_none());
    }

    #[test]
    fn shared_content_is_guarded_and_an_operators_content_is_not() {
        let g = HubGuard::default();
        // A stock photo posted once each by eight posters.
        let n = g
            .judge_content(IdentKind::Image, "sha256:ab", 8, &[1; 8])
            .unwrap();
        assert!(n.reason.contains("8 different posters"), "{}", n.reason);
        // Two separate operations (five and four ads) sharing one stolen photo.
        let n = g
            .judge_content(IdentKind::Image, "sha256:cd", 2, &[5, 4])
            .unwrap();
        assert!(
            n.reason.contains("share no account or contact"),
            "{}",
            n.reason
        );
        // One operator (its accounts and phones joined): one poster.
        assert!(
            g.judge_content(IdentKind::Template, "t-2", 13, &[13])
                .is_none()
        );
        // One operator, and a one-off poster who copied a photo: attaches, no bridge.
        assert!(
            g.judge_content(IdentKind::Image, "sha256:ef", 14, &[13, 1])
                .is_none()
        );
        // Text alone (no identified posters): links.
        assert!(
            g.judge_content(IdentKind::Template, "t-4", 30, &[])
                .is_none()
        );
    }
}
