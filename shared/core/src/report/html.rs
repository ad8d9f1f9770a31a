//! The one writer of HTML and SVG. Outside text (SLO names, alarm states, stored
//! strings) can only enter as escaped text or an escaped attribute value; element and
//! attribute names and raw markup are `&'static str`, written in this program. So no
//! stored string can become an element, an attribute or a script, by accident or not.

use std::fmt::{self, Display, Write};

/// Markup made only from the program's own literals and escaped text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Html {
    out: String,
    /// Elements opened and not yet closed, innermost last.
    open: Vec<&'static str>,
}

/// An attribute: its name (the program's) and its value (escaped when written).
pub type Attr<'a> = (&'static str, &'a dyn Display);

/// Writes through `fmt::Write` into a String, escaping what HTML and SVG treat as markup.
struct Escaping<'a>(&'a mut String);

impl Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

impl Html {
    /// An empty document or fragment.
    pub fn new() -> Html {
        Html::default()
    }

    /// `text`, shown as text.
    pub fn escape(text: &str) -> Html {
        let mut h = Html::new();
        h.text(text);
        h
    }

    /// Markup written in this program (a literal or a constant, such as the style sheet).
    pub fn markup(&mut self, m: &'static str) -> &mut Self {
        self.out.push_str(m);
        self
    }

    /// Text shown as text, whatever it holds.
    pub fn text(&mut self, t: impl Display) -> &mut Self {
        let _ = write!(Escaping(&mut self.out), "{t}");
        self
    }

    fn tag(&mut self, name: &'static str, attrs: &[Attr<'_>]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            let _ = write!(Escaping(&mut self.out), "{v}");
            self.out.push('"');
        }
    }

    /// Open an element; `close` ends it.
    pub fn open(&mut self, name: &'static str, attrs: &[Attr<'_>]) -> &mut Self {
        self.tag(name, attrs);
        self.out.push('>');
        self.open.push(name);
        self
    }

    /// Close the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        let name = self.open.pop().expect("close() matches an open()");
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// An element without content (`<line .../>`, `<meta .../>`).
    pub fn empty(&mut self, name: &'static str, attrs: &[Attr<'_>]) -> &mut Self {
        self.tag(name, attrs);
        self.out.push_str("/>");
        self
    }

    /// An element holding only `text`.
    pub fn element(
        &mut self,
        name: &'static str,
        attrs: &[Attr<'_>],
        text: impl Display,
    ) -> &mut Self {
        self.open(name, attrs).text(text).close()
    }

    /// Another piece of markup, written by this writer too.
    pub fn push(&mut self, h: &Html) -> &mut Self {
        assert!(
            h.open.is_empty(),
            "a fragment with unclosed elements: {:?}",
            h.open
        );
        self.out.push_str(&h.out);
        self
    }

    /// The markup, every element closed.
    pub fn into_string(self) -> String {
        assert!(self.open.is_empty(), "unclosed elements: {:?}", self.open);
        self.out
    }

    /// The markup so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }
}

impl std::ops::Deref for Html {
    type Target = str;
    fn deref(&self) -> &str {
        &self.out
    }
}

impl Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attribute_values_cannot_become_markup() {
        let hostile = r#""><script>alert('x')</script><b x=""#;
        let mut h = Html::new();
        h.open("p", &[("title", &hostile)])
            .text(hostile)
            .close()
            .empty("line", &[("x1", &1.5)]);
        assert_eq!(
            h.into_string(),
            "<p title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b x=&quot;\">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b x=&quot;</p><line x1=\"1.5\"/>"
        );
        assert_eq!(Html::escape("a & b").as_str(), "a &amp; b");
    }

    #[test]
    #[should_panic(expected = "unclosed elements")]
    fn an_unclosed_element_is_a_bug_not_a_page() {
        let mut h = Html::new();
        h.open("p", &[]);
        let _ = h.into_string();
    }
}
