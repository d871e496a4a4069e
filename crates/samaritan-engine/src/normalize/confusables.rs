//! Latin look-alikes: characters of other scripts and styles that posters use to spell Latin
//! words past filters ("уоung" in Cyrillic, "ʏᴏᴜɴɢ" in small capitals, "🅨🅞🅤🅝🅖").
//!
//! Two kinds, treated differently by `unicode`:
//! - [`style`]: letters that are only ever a *style* of a Latin letter (small capitals, enclosed
//!   and squared letters that NFKC leaves alone, dingbat digits). Always folded.
//! - [`script`]: letters of real scripts (Cyrillic, Greek, Armenian, Cherokee) that look Latin.
//!   Folded only inside Latin context, so Russian or Greek text is never transliterated.
//!
//! The table is hand-made from Unicode's confusables data, keeping only look-alikes that read as
//! the same letter in common fonts; it is deliberately small (precision over coverage).

/// A character that is only a style of a Latin letter or digit: its plain ASCII form.
pub(crate) fn style(c: char) -> Option<char> {
    if c.is_ascii() {
        return None; // every style look-alike is outside ASCII
    }
    let u = c as u32;
    Some(match u {
        // negative circled / negative squared capital letters (no NFKC decomposition)
        0x1F150..=0x1F169 => char::from(b'A' + (u - 0x1F150) as u8),
        0x1F170..=0x1F189 => char::from(b'A' + (u - 0x1F170) as u8),
        // dingbat circled digits one..nine (three styles); ten has two digits, left alone
        0x2776..=0x277E => char::from(b'1' + (u - 0x2776) as u8),
        0x2780..=0x2788 => char::from(b'1' + (u - 0x2780) as u8),
        0x278A..=0x2792 => char::from(b'1' + (u - 0x278A) as u8),
        0x24FF | 0x1F10B | 0x1F10C => '0',
        _ => match c {
            'ᴀ' => 'a',
            'ʙ' => 'b',
            'ᴄ' => 'c',
            'ᴅ' => 'd',
            'ᴇ' => 'e',
            'ꜰ' => 'f',
            'ɢ' => 'g',
            'ʜ' => 'h',
            'ɪ' => 'i',
            'ᴊ' => 'j',
            'ᴋ' => 'k',
            'ʟ' => 'l',
            'ᴍ' => 'm',
            'ɴ' => 'n',
            'ᴏ' => 'o',
            'ᴘ' => 'p',
            'ʀ' => 'r',
            'ꜱ' => 's',
            'ᴛ' => 't',
            'ᴜ' => 'u',
            'ᴠ' => 'v',
            'ᴡ' => 'w',
            'ʏ' => 'y',
            'ᴢ' => 'z',
            'ɑ' => 'a',
            'ɡ' => 'g',
            _ => return None,
        },
    })
}

/// A letter of another script that looks like a Latin letter: that letter.
pub(crate) fn script(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'к' => 'k',
        'ѕ' => 's',
        'і' => 'i',
        'ј' => 'j',
        'һ' => 'h',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ӏ' => 'l',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        'Ѕ' => 'S',
        'І' => 'I',
        'Ј' => 'J',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        'Һ' => 'H',
        'Ӏ' => 'I',
        // Greek
        'α' => 'a',
        'ο' => 'o',
        'ν' => 'v',
        'ρ' => 'p',
        'ι' => 'i',
        'κ' => 'k',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        'ω' => 'w',
        'ϲ' => 'c',
        'ϳ' => 'j',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        // Armenian
        'օ' => 'o',
        'ս' => 'u',
        'ո' => 'n',
        'հ' => 'h',
        'զ' => 'q',
        'ց' => 'g',
        // Cherokee
        'Ꭺ' => 'A',
        'Ᏼ' => 'B',
        'Ꮯ' => 'C',
        'Ꭰ' => 'D',
        'Ꭼ' => 'E',
        'Ꮐ' => 'G',
        'Ꮋ' => 'H',
        'Ꭻ' => 'J',
        'Ꮶ' => 'K',
        'Ꮮ' => 'L',
        'Ꮇ' => 'M',
        'Ꮲ' => 'P',
        'Ꮪ' => 'S',
        'Ꮤ' => 'T',
        'Ꮩ' => 'V',
        'Ꮃ' => 'W',
        'Ꮓ' => 'Z',
        _ => return None,
    })
}

/// The script class of a letter, for deciding whether look-alikes sit in Latin context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    Latin,
    /// A letter of another script that has a Latin look-alike (could be either).
    LookAlike,
    /// A letter of another script with no look-alike: the word is written in that script.
    Other,
    /// Digits, marks and anything that is not a letter.
    Neutral,
}

pub(crate) fn script_of(c: char) -> Script {
    if c.is_ascii_alphabetic() {
        return Script::Latin;
    }
    if c.is_ascii() || !c.is_alphabetic() {
        return Script::Neutral;
    }
    if script(c).is_some() {
        return Script::LookAlike;
    }
    match c as u32 {
        0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF => Script::Latin,
        _ => Script::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fold_to_ascii_letters() {
        for u in 0..0x20000u32 {
            let Some(c) = char::from_u32(u) else { continue };
            if let Some(f) = script(c) {
                assert!(f.is_ascii_alphabetic(), "{c:?}");
                assert_ne!(script_of(c), Script::Latin);
            }
            if let Some(f) = style(c) {
                assert!(f.is_ascii_alphanumeric(), "{c:?}");
            }
        }
        assert_eq!(style('🅨'), Some('Y'));
        assert_eq!(style('❸'), Some('3'));
        assert_eq!(script('у'), Some('y'));
        assert_eq!(script('п'), None);
        assert_eq!(script_of('п'), Script::Other);
        assert_eq!(script_of('é'), Script::Latin);
    }
}
