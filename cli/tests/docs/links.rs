//! The pages link to each other: every relative link names a file that exists, and every
//! `#anchor` a heading of the page it points at (as GitHub makes anchors from headings).

use super::{pages, read, root};
use std::path::Path;

/// A page's text outside fenced code blocks, with inline code spans blanked out, so a
/// `[x](y)` inside code is not taken for a link.
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut kept = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            kept.push_str(line);
        }
        kept.push('\n');
    }
    let mut out = String::new();
    for (i, part) in kept.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        } else {
            out.extend(part.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
        }
    }
    out
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to dashes.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings, a repeated one numbered as GitHub does (`-1`, `-2`).
pub fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let base = slug(line.trim_start_matches('#'));
        let mut anchor = base.clone();
        let mut n = 0;
        while out.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        out.push(anchor);
    }
    out
}

/// The targets of a page's `[text](target)` and `![alt](target)` links, outside code.
pub fn targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            rest.find(')').map(|end| rest[..end].trim().to_string())
        })
        .collect()
}

/// What is wrong with the relative links of the page at `name` (a path from the repository
/// root): a file that does not exist, or an anchor no heading of its page makes.
pub fn broken_links(name: &str, text: &str) -> Vec<String> {
    let dir = Path::new(name).parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for target in targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (target.as_str(), None),
        };
        let linked = if file.is_empty() {
            text.to_string()
        } else {
            let path = root().join(dir).join(file);
            if !path.exists() {
                broken.push(format!("{name}: ({target}): no file {}", path.display()));
                continue;
            }
            if anchor.is_none() {
                continue;
            }
            std::fs::read_to_string(&path).unwrap_or_default()
        };
        if let Some(anchor) = anchor {
            if !anchors(&linked).iter().any(|a| a == anchor) {
                broken.push(format!("{name}: ({target}): no heading makes #{anchor}"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_in_the_readme_and_docs_resolves() {
    let mut links = 0;
    let mut broken = Vec::new();
    let more =
        ["ARCHITECTURE.md", "BENCHMARKS.md", "RELIABILITY.md"].map(|n| (n.to_string(), read(n)));
    for (name, text) in pages().into_iter().chain(more) {
        links += targets(&text).len();
        broken.extend(broken_links(&name, &text));
    }
    assert!(broken.is_empty(), "{broken:#?}");
    assert!(links >= 40, "the links were found: {links}");
}

#[test]
fn the_link_check_finds_a_missing_file_a_missing_anchor_and_ignores_code() {
    let page = "# Page\n\n## Tear it down\n\n\
        [ok](../README.md) [here](#tear-it-down) ![img](report.png)\n\
        [gone](missing.md) [no anchor](../README.md#no-such-heading) [self](#nope)\n\
        `[code](not-a-link.md)` and\n```sh\necho [x](fenced.md)\n```\n[web](https://example.com/x)\n";
    let broken = broken_links("docs/page.md", page);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(broken[0].contains("(missing.md): no file"), "{broken:?}");
    assert!(
        broken[1].contains("no heading makes #no-such-heading"),
        "{broken:?}"
    );
    assert!(broken[2].contains("no heading makes #nope"), "{broken:?}");
    assert_eq!(
        anchors(
            "# A: `make demo`\n## What it costs\n## What it costs\n```sh\n# not a heading\n```"
        ),
        ["a-make-demo", "what-it-costs", "what-it-costs-1"]
    );
}

/// The README is the map: short, with a contents table before the tour that links every
/// docs page and the three reference files; each page says first what it answers.
#[test]
fn the_readme_is_a_short_map_and_each_page_opens_with_what_it_answers() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 250, "README.md is {lines} lines");
    let tour = readme.find("\n## The tour").expect("the tour");
    let contents = readme.find("\n## Contents").expect("a contents section");
    assert!(contents < tour, "the contents come before the tour");
    let map = targets(&readme[contents..tour]);
    let mut expected: Vec<String> = pages().into_iter().skip(1).map(|(n, _)| n).collect();
    expected.extend(["ARCHITECTURE.md", "BENCHMARKS.md", "RELIABILITY.md"].map(String::from));
    for page in &expected {
        assert!(map.contains(page), "the contents do not link {page}");
    }
    for (name, text) in pages().into_iter().skip(1) {
        let mut paragraphs = text.split("\n\n").map(str::trim);
        let title = paragraphs.next().unwrap_or_default();
        assert!(
            title.starts_with("# ") && !title.contains('\n'),
            "{name}: starts with its title"
        );
        let opening = paragraphs.next().unwrap_or_default();
        assert!(
            !opening.starts_with(['#', '`', '|', '!', '-']) && opening.contains('?'),
            "{name}: the first paragraph asks what the page answers: {opening}"
        );
        assert!(
            targets(opening).iter().any(|t| t == "../README.md"),
            "{name}: the opening links back to the README"
        );
    }
}
