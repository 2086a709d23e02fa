//! Trends formulas: `A`, `B`, ... are the series in order; `+ - * /`, parentheses and numbers.
//! A missing input gives `null`, and so does a division by zero.

#[derive(Debug, Clone)]
enum Expr {
    Number(f64),
    Series(usize),
    Negate(Box<Expr>),
    Binary(Box<Expr>, char, Box<Expr>),
}

#[derive(Debug, Clone)]
pub(super) struct Formula(Expr);

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&mut self) -> Option<char> {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
        self.chars.get(self.at).copied()
    }

    /// `term (('+' | '-') term)*`
    fn sum(&mut self) -> Expr {
        let mut left = self.product();
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()));
        }
        left
    }

    /// `factor (('*' | '/') factor)*`
    fn product(&mut self) -> Expr {
        let mut left = self.factor();
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.factor()));
        }
        left
    }

    fn factor(&mut self) -> Expr {
        match self.peek() {
            Some('-') => {
                self.at += 1;
                Expr::Negate(Box::new(self.factor()))
            }
            Some('(') => {
                self.at += 1;
                let inner = self.sum();
                assert_eq!(self.peek(), Some(')'), "unbalanced parenthesis in formula");
                self.at += 1;
                inner
            }
            Some(c) if c.is_ascii_uppercase() => {
                self.at += 1;
                Expr::Series(usize::from(c as u8 - b'A'))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at;
                while self.chars.get(self.at).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                Expr::Number(text.parse().unwrap())
            }
            other => panic!("unexpected {other:?} in formula"),
        }
    }
}

impl Formula {
    pub(super) fn parse(text: &str) -> Formula {
        let mut parser = Parser { chars: text.chars().collect(), at: 0 };
        let expr = parser.sum();
        assert_eq!(parser.peek(), None, "trailing text in formula `{text}`");
        Formula(expr)
    }

    /// The value with `inputs[i]` for series `i`.
    pub(super) fn eval(&self, inputs: &[Option<f64>]) -> Option<f64> {
        eval(&self.0, inputs)
    }
}

fn eval(e: &Expr, inputs: &[Option<f64>]) -> Option<f64> {
    match e {
        Expr::Number(v) => Some(*v),
        Expr::Series(i) => inputs[*i],
        Expr::Negate(inner) => eval(inner, inputs).map(|v| -v),
        Expr::Binary(a, op, b) => {
            let (a, b) = (eval(a, inputs)?, eval(b, inputs)?);
            match op {
                '+' => Some(a + b),
                '-' => Some(a - b),
                '*' => Some(a * b),
                _ => (b != 0.0).then(|| a / b),
            }
        }
    }
}
