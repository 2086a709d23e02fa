//! A small backtracking regular-expression matcher for the reference implementation (the
//! store crate has no regex dependency). It covers the RE2 subset queries in the cross-check
//! use: literals, `.`, classes `[a-z]`/`[^...]`, `\d \w \s` (and negations), anchors `^ $`,
//! groups `(...)`/`(?:...)`, alternation, and the greedy quantifiers `* + ? {m} {m,} {m,n}`.
//! Anything else panics, so an unsupported pattern is noticed rather than misread.

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    /// `(negated, ranges)`.
    Class(bool, Vec<(char, char)>),
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, usize, Option<usize>),
}

#[derive(Debug, Clone)]
pub(super) struct Regex {
    root: Node,
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')];
const SPACE: &[(char, char)] =
    &[(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r'), ('\x0b', '\x0c')];

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.at += 1;
        c
    }

    fn alternation(&mut self) -> Node {
        let mut branches = vec![self.concat()];
        while self.peek() == Some('|') {
            self.at += 1;
            branches.push(self.concat());
        }
        if branches.len() == 1 { branches.remove(0) } else { Node::Alt(branches) }
    }

    fn concat(&mut self) -> Node {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom();
            items.push(self.quantified(atom));
        }
        Node::Concat(items)
    }

    fn quantified(&mut self, atom: Node) -> Node {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => return self.braces(atom),
            _ => return atom,
        };
        self.at += 1;
        if self.peek() == Some('?') {
            unimplemented!("lazy quantifiers are not supported by the reference regex");
        }
        Node::Repeat(Box::new(atom), min, max)
    }

    fn braces(&mut self, atom: Node) -> Node {
        self.at += 1;
        let mut text = String::new();
        while let Some(c) = self.bump() {
            if c == '}' {
                break;
            }
            text.push(c);
        }
        let number = |s: &str| -> usize {
            s.trim().parse().unwrap_or_else(|_| panic!("bad repetition `{{{text}}}`"))
        };
        let (min, max) = match text.split_once(',') {
            None => (number(&text), Some(number(&text))),
            Some((low, "")) => (number(low), None),
            Some((low, high)) => (number(low), Some(number(high))),
        };
        Node::Repeat(Box::new(atom), min, max)
    }

    fn atom(&mut self) -> Node {
        match self.bump() {
            Some('.') => Node::Any,
            Some('^') => Node::Start,
            Some('$') => Node::End,
            Some('(') => {
                if self.peek() == Some('?') {
                    let colon = self.chars.get(self.at + 1) == Some(&':');
                    assert!(colon, "only (?:...) groups are supported by the reference regex");
                    self.at += 2;
                }
                let inner = self.alternation();
                assert_eq!(self.bump(), Some(')'), "unbalanced parenthesis in regex");
                inner
            }
            Some('[') => self.class(),
            Some('\\') => self.escape(),
            Some(c) => Node::Char(c),
            None => unreachable!("atom past the end"),
        }
    }

    fn escape(&mut self) -> Node {
        let c = self.bump().unwrap_or_else(|| panic!("trailing backslash in regex"));
        match c {
            'd' => Node::Class(false, DIGIT.to_vec()),
            'D' => Node::Class(true, DIGIT.to_vec()),
            'w' => Node::Class(false, WORD.to_vec()),
            'W' => Node::Class(true, WORD.to_vec()),
            's' => Node::Class(false, SPACE.to_vec()),
            'S' => Node::Class(true, SPACE.to_vec()),
            c if c.is_ascii_alphanumeric() => {
                unimplemented!("escape \\{c} is not supported by the reference regex")
            }
            c => Node::Char(c),
        }
    }

    fn class(&mut self) -> Node {
        let negated = self.peek() == Some('^');
        if negated {
            self.at += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.bump().unwrap_or_else(|| panic!("unterminated class in regex"));
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = if c == '\\' {
                let e = self.bump().unwrap_or_else(|| panic!("trailing backslash in regex"));
                match e {
                    'd' => {
                        ranges.extend_from_slice(DIGIT);
                        continue;
                    }
                    'w' => {
                        ranges.extend_from_slice(WORD);
                        continue;
                    }
                    's' => {
                        ranges.extend_from_slice(SPACE);
                        continue;
                    }
                    e if e.is_ascii_alphanumeric() => {
                        unimplemented!("class escape \\{e} is not supported")
                    }
                    e => e,
                }
            } else {
                c
            };
            let is_range = self.peek() == Some('-') && self.chars.get(self.at + 1) != Some(&']');
            if is_range {
                self.at += 1;
                let high = self.bump().unwrap_or_else(|| panic!("unterminated range in regex"));
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Node::Class(negated, ranges)
    }
}

impl Regex {
    pub(super) fn new(pattern: &str) -> Regex {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser { chars: &chars, at: 0 };
        let root = parser.alternation();
        assert!(parser.at == chars.len(), "unbalanced parenthesis in regex `{pattern}`");
        Regex { root }
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        (0..=chars.len()).any(|start| matches(&self.root, &chars, start, &|_| true))
    }
}

/// Whether `node` matches `s` from `i` such that `rest` accepts where it ends.
fn matches(node: &Node, s: &[char], i: usize, rest: &dyn Fn(usize) -> bool) -> bool {
    match node {
        Node::Char(c) => s.get(i) == Some(c) && rest(i + 1),
        Node::Any => s.get(i).is_some_and(|c| *c != '\n') && rest(i + 1),
        Node::Class(negated, ranges) => {
            s.get(i).is_some_and(|c| {
                ranges.iter().any(|(low, high)| (*low..=*high).contains(c)) != *negated
            }) && rest(i + 1)
        }
        Node::Start => i == 0 && rest(i),
        Node::End => i == s.len() && rest(i),
        Node::Concat(items) => sequence(items, s, i, rest),
        Node::Alt(branches) => branches.iter().any(|b| matches(b, s, i, rest)),
        Node::Repeat(inner, min, max) => repeat(inner, *min, *max, 0, s, i, rest),
    }
}

fn sequence(items: &[Node], s: &[char], i: usize, rest: &dyn Fn(usize) -> bool) -> bool {
    match items.split_first() {
        None => rest(i),
        Some((first, others)) => matches(first, s, i, &|j| sequence(others, s, j, rest)),
    }
}

/// Greedy repetition: as many as possible, then fewer.
fn repeat(
    inner: &Node,
    min: usize,
    max: Option<usize>,
    done: usize,
    s: &[char],
    i: usize,
    rest: &dyn Fn(usize) -> bool,
) -> bool {
    let more = max.is_none_or(|m| done < m)
        && matches(inner, s, i, &|j| {
            // An empty iteration cannot make progress: it satisfies any minimum.
            if j == i { rest(j) } else { repeat(inner, min, max, done + 1, s, j, rest) }
        });
    more || (done >= min && rest(i))
}

#[cfg(test)]
mod tests {
    use super::Regex;

    #[test]
    fn subset_matches_like_re2() {
        let m = |p: &str, t: &str| Regex::new(p).is_match(t);
        assert!(m("^/(pricing|docs)", "/docs/x"));
        assert!(!m("^/(pricing|docs)", "/blog/docs"));
        assert!(m("blog/\\d+$", "/blog/42"));
        assert!(!m("blog/\\d+$", "/blog/42a"));
        assert!(m("^[A-Z]{2}$", "DE"));
        assert!(!m("^[A-Z]{2}$", "DEU"));
        assert!(m("a.c", "xxabcxx"));
        assert!(m("^(?:ex|sh)[a-z]*e?$", "share"));
        assert!(m("^$", ""));
        assert!(m("x*", "abc"));
        assert!(!m("[^a-z]", "abc"));
    }
}
