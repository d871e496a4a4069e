//! Whose age is it? A stated age counts toward the advertised person only when it belongs to
//! them: a babysitter naming the children's ages, a coach listing a team's age group or a
//! parent's "my son (8)" are ages of someone else, and a minor indicator read from them would
//! block an ordinary ad.
//!
//! The rule is local and conservative in the direction that matters: first-person forms ("I'm
//! 17", "tengo 17", "just turned 17") and classified-title ages always belong to the advertised
//! person (the extractor says so without asking here); any other form is someone else's only
//! when a word naming another person (child, son, kids, students, players, niños, hijos…) stands
//! in the same clause just before the age or right after it ("a 6 year old boy"), a possessive
//! precedes it ("my 12 year old"), "ages 7 to 12" names a group that is not the people offered,
//! or an ad about caring for children introduces it ("a nanny for a 6 year old"). A word that
//! is ambiguous in escort ads ("girl", "baby") is not such a word.

/// Who a stated age belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The person the ad is about (the poster, or the person offered).
    Advertised,
    /// Someone else the ad names: children, students, players, family.
    Other,
    /// A minimum age the ad requires ("must be 21", "18 and over"): nobody's age.
    Minimum,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Advertised => "advertised",
            Subject::Other => "other",
            Subject::Minimum => "minimum",
        }
    }
}

/// Words naming a person other than the one advertised (lower case; English and Spanish).
const OTHERS: &[&str] = &[
    "kid",
    "kids",
    "child",
    "children",
    "childs",
    "son",
    "sons",
    "daughter",
    "daughters",
    "toddler",
    "toddlers",
    "infant",
    "infants",
    "boy",
    "boys",
    "twins",
    "grandson",
    "granddaughter",
    "grandkids",
    "grandchildren",
    "nephew",
    "niece",
    "sibling",
    "siblings",
    "brother",
    "sister",
    "students",
    "student's",
    "pupils",
    "players",
    "player",
    "team",
    "teams",
    "campers",
    "swimmers",
    "athletes",
    "youth",
    "youths",
    "juniors",
    "grade",
    "grades",
    "children's",
    "kids'",
    "preschool",
    "preschoolers",
    "newborn",
    "baby's",
    "little ones",
    "age group",
    "ages",
    "aged",
    "niño",
    "nino",
    "niños",
    "ninos",
    "niña",
    "nina",
    "niñas",
    "ninas",
    "hijo",
    "hijos",
    "hija",
    "hijas",
    "bebé",
    "bebe",
    "bebés",
    "alumnos",
    "alumnas",
    "jugadores",
    "jugadoras",
    "nietos",
    "sobrinos",
    "hermanos",
    "equipo",
];

/// Events: "paquetes de quince años" is a party, not a person.
const EVENTS: &[&str] = &[
    "fiesta",
    "fiestas",
    "paquete",
    "paquetes",
    "party",
    "parties",
    "quinceañera",
    "quinceanera",
    "vestido",
    "vestidos",
];

/// Possessives right before an age: "my 12 year old", "our 15yo", "mis 3 niños". ("her" and
/// "su" are left out: a third party writes "her 17 years" of the person offered.)
const POSSESSIVE: &[&str] = &[
    "my", "our", "their", "mi", "mis", "nuestro", "nuestra", "nuestros", "nuestras",
];

/// Words naming the people offered in a roster ("girls ages 19 and 21").
const OFFERED: &[&str] = &[
    "girl",
    "girls",
    "lady",
    "ladies",
    "women",
    "woman",
    "chica",
    "chicas",
    "nena",
    "nenas",
    "señorita",
    "señoritas",
    "gurls",
    "girlz",
];

/// Words right after the age that make it someone else's ("6 year old son").
const OTHERS_AFTER: &[&str] = &[
    "son",
    "daughter",
    "boy",
    "boys",
    "kid",
    "kids",
    "child",
    "children",
    "twins",
    "toddler",
    "niño",
    "nino",
    "niños",
    "ninos",
    "niña",
    "hijo",
    "hija",
    "hijos",
    "hijas",
    "players",
    "and under",
    "and younger",
    "or younger",
    "y menores",
];

/// First-person words between the other-person word and the age: "my kids are grown, I'm 19"
/// is the poster's age. (`I`, `me`, `yo` only.)
fn first_person(word: &str) -> bool {
    matches!(word, "i" | "i'm" | "im" | "me" | "yo" | "myself")
}

/// How far back (bytes) the clause before an age is read.
const BACK: usize = 60;

/// Who the age stated at `start..end` of the normalized `text` belongs to, read from the words
/// around it.
pub fn of(text: &str, start: usize, end: usize) -> Subject {
    // the clause before: back to a sentence end or newline, at most BACK bytes
    let mut from = start.saturating_sub(BACK);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = &text[from..start];
    let clause = before
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '\n' | ';' | '|' | '•'))
        .map_or(before, |(i, c)| &before[i + c.len_utf8()..]);
    let original: Vec<&str> = clause
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let lower: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let words: Vec<&str> = lower.iter().map(String::as_str).collect();
    // "Nina (19)" is a name, "mi nina de 12 años" a girl written without the tilde
    let name = |i: usize| {
        matches!(words[i], "nina" | "nino")
            && original[i].chars().next().is_some_and(char::is_uppercase)
    };
    if words.last().is_some_and(|w| POSSESSIVE.contains(w)) {
        return Subject::Other;
    }
    // "ages 7 to 12" names a group's ages (lessons, a team), unless the group is the people
    // offered ("girls ages 19 and 21")
    let cue = text[start..end].trim_start();
    if cue.len() >= 4
        && cue.is_char_boundary(4)
        && cue[..4].eq_ignore_ascii_case("ages")
        && !words.iter().any(|w| OFFERED.contains(w))
    {
        return Subject::Other;
    }
    // the nearest other-person word, unless a first-person word follows it
    for (i, w) in words.iter().enumerate().rev() {
        if first_person(w) {
            break;
        }
        let pair = words.get(i + 1).map(|n| format!("{w} {n}"));
        if (OTHERS.contains(w) && !name(i))
            || EVENTS.contains(w)
            || pair.as_deref().is_some_and(|p| OTHERS.contains(&p))
        {
            // "ages 8 and up" is a group's (lessons, teams), but "girls ages 19 and 21" is a
            // roster of the people offered
            if matches!(*w, "ages" | "aged") && words[..i].iter().any(|x| OFFERED.contains(x)) {
                continue;
            }
            return Subject::Other;
        }
    }
    // "a nanny for a 6 year old and a 9 year old", "tutoring one easygoing 9-year-old": in an
    // ad about caring for children, an age introduced as someone after a word of caring or a
    // preposition ("for/with/and/tutoring a [word] N") is a child's. Nowhere else, and not after
    // any other word: "Mother and daughter team. Meet a fresh 15 yo" is the person offered.
    let n = words.len();
    let introduced = (n.saturating_sub(4)..n.saturating_sub(1)).any(|k| {
        matches!(words[k + 1], "a" | "an" | "one" | "un" | "una")
            && INTRODUCING.contains(&words[k])
            && !words[k + 2..]
                .iter()
                .any(|w| first_person(w) || OFFERED.contains(w))
    }) || (n >= 1 && matches!(words[n - 1], "for" | "to" | "para"));
    // the words right after the age name the person offered: "a 17 year old girl"
    let offered_after = {
        let mut to = (end + 30).min(text.len());
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        text[end..to]
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .find(|w| {
                !matches!(
                    *w,
                    "year" | "years" | "yr" | "yrs" | "old" | "yo" | "y" | "o"
                )
            })
            .is_some_and(|w| OFFERED.contains(&w))
    };
    // an ad whose only care words are a parent's ("single mom") is a genre of escort ads too:
    // there only a child's age (under 13) is read as introduced
    let child_age = text[start..end]
        .split(|c: char| !c.is_ascii_digit())
        .find(|d| !d.is_empty())
        .and_then(|d| d.parse::<u32>().ok())
        .is_some_and(|a| a < 13);
    if introduced
        && !offered_after
        && match care_context(text) {
            Some(Care::Children) => true,
            Some(Care::Parent) => child_age,
            None => false,
        }
    {
        return Subject::Other;
    }
    // the words right after: "6 year old son", "5 y/o twins"
    let mut to = (end + 40).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let after = text[end..to].to_lowercase();
    let next: Vec<&str> = after
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| {
            !matches!(
                *w,
                "year" | "years" | "yr" | "yrs" | "old" | "yo" | "y" | "o"
            )
        })
        .take(2)
        .collect();
    let joined = next.join(" ");
    if next.first().is_some_and(|w| OTHERS_AFTER.contains(w)) || OTHERS_AFTER.contains(&&*joined) {
        return Subject::Other;
    }
    Subject::Advertised
}

/// Words naming a parent ("full-time dad to a 3 year old", but also "single mom" escort ads).
const PARENT: &[&str] = &[
    "dad",
    "mom",
    "father",
    "mother",
    "parent",
    "parents",
    "single dad",
    "single mom",
    "papá",
    "mamá",
];

/// Words of ads about caring for or teaching children.
const CARE: &[&str] = &[
    "nanny",
    "nannies",
    "babysit",
    "babysitter",
    "babysitting",
    "sitter",
    "daycare",
    "childcare",
    "child care",
    "tutor",
    "tutoring",
    "homework",
    "school pickup",
    "after school",
    "coach",
    "league",
    "summer camp",
    "playdate",
    "niñera",
    "ninera",
    "guardería",
    "guarderia",
    "niñero",
    "cuidado de niños",
];

/// Words after which "a/one N" introduces a child in an ad about caring for children.
const INTRODUCING: &[&str] = &[
    "for",
    "with",
    "and",
    "to",
    "watch",
    "watching",
    "tutoring",
    "tutor",
    "teaching",
    "sitting",
    "babysitting",
    "minding",
    "para",
    "con",
    "y",
    "cuido",
    "cuidar",
];

/// How an ad speaks of children: as care (a nanny, a tutor, a daycare) or only as a parent.
enum Care {
    Children,
    Parent,
}

/// Is `text` about caring for or teaching children ([`CARE`]), or does it only name a parent
/// ([`PARENT`])?
fn care_context(text: &str) -> Option<Care> {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| {
        words.iter().any(|w| {
            lower.match_indices(w).any(|(i, _)| {
                let before = lower[..i].chars().next_back();
                let after = lower[i + w.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(|c| c.is_alphanumeric() && c != 's')
            })
        })
    };
    if has(CARE) {
        Some(Care::Children)
    } else if has(PARENT) {
        Some(Care::Parent)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(t: &str, num: &str) -> Subject {
        let s = t.find(num).unwrap_or(0);
        of(t, s, s + num.len())
    }

    #[test]
    fn children_named_by_a_sitter_or_parent_are_others() {
        assert_eq!(
            who("experience with two kids ages 4 and 7", "4"),
            Subject::Other
        );
        assert_eq!(
            who("experience with two kids ages 4 and 7", "7"),
            Subject::Other
        );
        assert_eq!(who("Nanny for a 6 year old boy", "6"), Subject::Other);
        let t = "Family looking for a caring nanny for a 6 year old and a 9 year old.";
        assert_eq!(who(t, "6"), Subject::Other);
        assert_eq!(who(t, "9"), Subject::Other);
        let t = "Full-time dad to a 3 year old, so weekends are busy";
        assert_eq!(who(t, "3"), Subject::Other);
        let t = "Math tutor wanted for 15 yr old";
        assert_eq!(who(t, "15"), Subject::Other);
        assert_eq!(who("my son (8) needs a math tutor", "8"), Subject::Other);
        assert_eq!(who("cuido niños de 3 a 10 años", "10"), Subject::Other);
        assert_eq!(who("U14 team, players aged 12-14", "12"), Subject::Other);
        assert_eq!(
            who("Part-time nanny wanted for my 12 year old", "12"),
            Subject::Other
        );
        assert_eq!(
            who("a dependable sitter for our son, age 12.", "12"),
            Subject::Other
        );
        assert_eq!(who("Pitching lessons, ages 8 and up", "8"), Subject::Other);
        let t = "Reading help, ages 7 to 12";
        let s = t.find("ages").unwrap_or(0);
        assert_eq!(of(t, s, t.len()), Subject::Other);
        let t = "Two girls ages 19 and 21";
        let s = t.find("ages").unwrap_or(0);
        assert_eq!(of(t, s, t.len()), Subject::Advertised);
        assert_eq!(
            who("Paquetes de quince años y bodas", "quince"),
            Subject::Other
        );
        let t = "Tutor, currently tutoring one easygoing 9-year-old and a 12-year-old.";
        assert_eq!(who(t, "9"), Subject::Other);
        assert_eq!(who(t, "12"), Subject::Other);
    }

    #[test]
    fn the_advertised_person_keeps_their_age() {
        assert_eq!(who("Sweet girl, 17 years old", "17"), Subject::Advertised);
        assert_eq!(who("No kids. Age: 19", "19"), Subject::Advertised);
        assert_eq!(who("two girls ages 19 and 21", "19"), Subject::Advertised);
        assert_eq!(who("no kids, I'm 17", "17"), Subject::Advertised);
        assert_eq!(who("Lexi 16yo new in town", "16"), Subject::Advertised);
        // without an ad about children, "with a 17 year old" may be the person offered
        assert_eq!(
            who("Spend time with a 17 year old", "17"),
            Subject::Advertised
        );
        // a clause that starts after a bullet (a multi-byte separator)
        assert_eq!(
            who(
                "MENU this week\nAvailable now:\n• Mei - 18\n• Kim (20)",
                "20"
            ),
            Subject::Advertised
        );
        // "Nina" is a name, not "niña" without its tilde
        assert_eq!(who("Nina (19) y Jasmine (21)", "21"), Subject::Advertised);
        // "a N" after any other word is not introduced as a child, even beside family words
        let t = "Mother and daughter team available. Meet a fresh 15 yo.";
        assert_eq!(who(t, "15"), Subject::Advertised);
        let t = "Mother and daughter team available. A fresh 15 yo.";
        assert_eq!(who(t, "15"), Subject::Advertised);
        let t = "Son nuevas. Tenemos una jovencita de 16 años";
        assert_eq!(who(t, "16"), Subject::Advertised);
        let t = "Her kids are with family. Meet Sierra, a sweet 16 year old";
        assert_eq!(who(t, "16"), Subject::Advertised);
        let t = "Single mom. Spend time with a 17 year old girl";
        assert_eq!(who(t, "17"), Subject::Advertised);
        let t = "Single mom. Spend time with a 16 year old";
        assert_eq!(who(t, "16"), Subject::Advertised);
        // "nina" without its tilde is a girl unless capitalised as a name
        assert_eq!(
            who("busco niñera para mi nina de 12 anos", "12"),
            Subject::Other
        );
    }
}
