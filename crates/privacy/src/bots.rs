//! Recognising crawlers, monitors and scripted clients by their user agent, with isbot's
//! pattern list (compiled in from `data/isbot-patterns.json`; `scripts/update-ua-data`
//! refreshes it). Most patterns are plain and run in one linear-time `regex`; the few with
//! look-around run in `fancy-regex`.

use crate::PrivacyError;

const PATTERNS: &str = include_str!("../data/isbot-patterns.json");

#[derive(Debug)]
pub struct BotDetector {
    plain: regex::Regex,
    look_around: Vec<fancy_regex::Regex>,
}

impl BotDetector {
    pub fn new() -> Result<Self, PrivacyError> {
        let patterns: Vec<String> =
            serde_json::from_str(PATTERNS).map_err(|e| PrivacyError::Data(e.to_string()))?;
        let (fancy, plain): (Vec<_>, Vec<_>) = patterns
            .iter()
            .partition(|p| p.contains("(?<") || p.contains("(?=") || p.contains("(?!"));
        let alternation = plain
            .iter()
            .map(|p| format!("(?:{})", to_rust_syntax(p)))
            .collect::<Vec<_>>()
            .join("|");
        let plain = regex::RegexBuilder::new(&alternation)
            .case_insensitive(true)
            .size_limit(64 << 20)
            .build()
            .map_err(|e| PrivacyError::Data(format!("bot patterns: {e}")))?;
        let look_around = fancy
            .iter()
            .map(|p| {
                fancy_regex::Regex::new(&format!("(?i){}", to_rust_syntax(p)))
                    .map_err(|e| PrivacyError::Data(format!("bot pattern `{p}`: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { plain, look_around })
    }

    /// Whether `user_agent` belongs to a bot. An empty user agent is not judged here: each wire
    /// format decides whether one is required.
    pub fn is_bot(&self, user_agent: &str) -> bool {
        !user_agent.is_empty()
            && (self.plain.is_match(user_agent)
                || self.look_around.iter().any(|re| re.is_match(user_agent).unwrap_or(false)))
    }
}

/// isbot's patterns are JavaScript regexes. The one construct Rust rejects is a literal `-`
/// right after a class escape inside brackets (`[\w-.]`); escaping it means the same in both.
fn to_rust_syntax(pattern: &str) -> String {
    pattern.replace("\\w-", "\\w\\-").replace("\\d-", "\\d\\-").replace("\\s-", "\\s\\-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bots_and_browsers() {
        let d = BotDetector::new().unwrap();
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "curl/8.4.0",
            "python-requests/2.31.0",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "HeadlessChrome/120.0",
        ] {
            assert!(d.is_bot(bot), "{bot}");
        }
        for browser in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "",
        ] {
            assert!(!d.is_bot(browser), "{browser}");
        }
    }
}
