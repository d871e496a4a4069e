//! A small XML element tree (names, text, children in order), enough to read the CyberTipline's
//! responses and, in the mock, the reports sent to it.

use quick_xml::events::Event;

/// One element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Deepest nesting accepted (a hostile document cannot recurse without bound).
const MAX_DEPTH: usize = 32;

/// An element's name and attributes (of `<x …>` and of `<x …/>` alike).
fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut n = Node {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        ..Node::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|e| format!("malformed attribute: {e}"))?;
        let v = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("malformed attribute: {e}"))?;
        n.attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            v.into_owned(),
        ));
    }
    Ok(n)
}

/// Parses `xml` into its root element.
pub fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("malformed XML: {e}"))?
        {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("XML nested too deeply".into());
                }
                stack.push(element(&e)?);
            }
            Event::Empty(e) => {
                let n = element(&e)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    let s = t.decode().map_err(|e| format!("malformed text: {e}"))?;
                    n.text.push_str(
                        &quick_xml::escape::unescape(&s)
                            .map_err(|e| format!("malformed text: {e}"))?,
                    );
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    let name = r
                        .decode()
                        .map_err(|e| format!("malformed reference: {e}"))?;
                    let reference = format!("&{name};");
                    let resolved = quick_xml::escape::unescape(&reference)
                        .map_err(|e| format!("unknown entity `{name}`: {e}"))?;
                    n.text.push_str(&resolved);
                }
            }
            Event::CData(c) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::End(_) => {
                let Some(n) = stack.pop() else {
                    return Err("malformed XML: an end without a start".into());
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("malformed XML: unclosed elements".into());
    }
    root.ok_or_else(|| "no root element".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_text_and_order() {
        let n =
            parse("<?xml version=\"1.0\"?><a><b x=\"1\">t &amp; u</b><c/><b>2</b></a>").unwrap();
        assert_eq!(n.name, "a");
        let names: Vec<&str> = n.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "b"]);
        assert_eq!(n.text_of("b"), Some("t & u"));
        assert_eq!(n.children[0].attrs, [("x".to_owned(), "1".to_owned())]);
        let e = parse("<a><c y=\"2\"/></a>").unwrap();
        assert_eq!(e.children[0].attrs, [("y".to_owned(), "2".to_owned())]);
        assert!(
            parse("<a><c y=2/></a>").is_err(),
            "a malformed attribute is an error"
        );
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("").is_err());
    }
}
