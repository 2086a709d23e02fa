//! Formulas across trends series (`A / B * 100`): parsed when planning, so a bad formula is a
//! clear 400, and evaluated on results, bucket by bucket.

use crate::QueryError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Formula {
    Number(f64),
    /// Index of a series: `A` is 0.
    Series(usize),
    Binary(Box<Formula>, char, Box<Formula>),
    Negate(Box<Formula>),
}

impl Formula {
    pub(crate) fn parse(text: &str, series: usize) -> Result<Formula, QueryError> {
        let tokens: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut parser = Parser { tokens: &tokens, at: 0, series, text };
        let formula = parser.sum()?;
        if parser.at != tokens.len() {
            return Err(parser.error("unexpected text"));
        }
        Ok(formula)
    }

    /// The value, with `values[i]` for series `i`; `None` when an input is missing or a
    /// division is by zero.
    pub(crate) fn eval(&self, values: &[Option<f64>]) -> Option<f64> {
        match self {
            Formula::Number(n) => Some(*n),
            Formula::Series(i) => values.get(*i).copied().flatten(),
            Formula::Negate(f) => f.eval(values).map(|v| -v),
            Formula::Binary(l, op, r) => {
                let (l, r) = (l.eval(values)?, r.eval(values)?);
                match op {
                    '+' => Some(l + r),
                    '-' => Some(l - r),
                    '*' => Some(l * r),
                    _ => (r != 0.0).then(|| l / r),
                }
            }
        }
    }
}

struct Parser<'a> {
    tokens: &'a [char],
    at: usize,
    series: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> QueryError {
        QueryError::invalid(format!("formula `{}`: {what} at character {}", self.text, self.at + 1))
    }

    fn peek(&self) -> Option<char> {
        self.tokens.get(self.at).copied()
    }

    fn sum(&mut self) -> Result<Formula, QueryError> {
        let mut left = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            left = Formula::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Formula, QueryError> {
        let mut left = self.atom()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.at += 1;
            left = Formula::Binary(Box::new(left), op, Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Formula, QueryError> {
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.sum()?;
                if self.peek() != Some(')') {
                    return Err(self.error("missing `)`"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some('-') => {
                self.at += 1;
                Ok(Formula::Negate(Box::new(self.atom()?)))
            }
            Some(c) if c.is_ascii_uppercase() => {
                let index = usize::from(c as u8 - b'A');
                if index >= self.series {
                    return Err(self.error(&format!("series `{c}` does not exist")));
                }
                self.at += 1;
                Ok(Formula::Series(index))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.at += 1;
                }
                let text: String = self.tokens[start..self.at].iter().collect();
                text.parse().map(Formula::Number).map_err(|_| self.error("bad number"))
            }
            _ => Err(self.error("expected a series letter, a number or `(`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_parentheses_and_division_by_zero() {
        let f = Formula::parse("A / B * 100", 2).unwrap();
        assert_eq!(f.eval(&[Some(1.0), Some(4.0)]), Some(25.0));
        assert_eq!(f.eval(&[Some(1.0), Some(0.0)]), None);
        let f = Formula::parse("(A + B) / 2 - -1", 2).unwrap();
        assert_eq!(f.eval(&[Some(3.0), Some(5.0)]), Some(5.0));
        assert_eq!(f.eval(&[None, Some(5.0)]), None);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = Formula::parse("A + C", 2).unwrap_err().to_string();
        assert_eq!(e, "formula `A + C`: series `C` does not exist at character 3");
        assert!(Formula::parse("(A", 1).unwrap_err().to_string().contains("missing `)`"));
        assert!(Formula::parse("A B", 2).unwrap_err().to_string().contains("unexpected"));
        assert!(Formula::parse("", 1).is_err());
    }
}
