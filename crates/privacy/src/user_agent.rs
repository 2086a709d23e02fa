//! User agent → browser family, OS family, device type, bot or not, with uap-core's regexes
//! (compiled in from `data/uap-regexes.json`). Parsing runs ~1,000 regexes, so results are
//! cached: real traffic repeats a few thousand distinct user agents, and a repeat costs a hash
//! lookup. The raw string is used only here and is never returned or stored.

use crate::{BotDetector, PrivacyError};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const REGEXES: &str = include_str!("../data/uap-regexes.json");

/// Distinct user agents remembered; the cache is emptied when it fills, which keeps memory
/// bounded without bookkeeping on the hot path.
const CACHE_CAPACITY: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    Other,
}

impl DeviceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Desktop => "desktop",
            DeviceType::Mobile => "mobile",
            DeviceType::Tablet => "tablet",
            DeviceType::Bot => "bot",
            DeviceType::Other => "other",
        }
    }
}

/// What Sextant keeps of a user agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientInfo {
    /// uap-core browser family (`Chrome`, `Mobile Safari`, ...); `None` when unknown.
    pub browser: Option<String>,
    /// uap-core OS family (`Windows`, `iOS`, ...); `None` when unknown.
    pub os: Option<String>,
    /// uap-core device family (`iPhone`, `Samsung SM-G991B`, `Spider`, ...), for accuracy
    /// reports; not stored.
    pub device: Option<String>,
    pub device_type: DeviceType,
    pub is_bot: bool,
}

pub struct UserAgentParser {
    extractor: ua_parser::Extractor<'static>,
    bots: BotDetector,
    cache: Mutex<HashMap<Box<str>, Arc<ClientInfo>>>,
}

impl std::fmt::Debug for UserAgentParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAgentParser").finish_non_exhaustive()
    }
}

impl UserAgentParser {
    /// Compiles the regexes; takes a moment, so build one per process and share it.
    pub fn new() -> Result<Self, PrivacyError> {
        let regexes: ua_parser::Regexes<'static> =
            serde_json::from_str(REGEXES).map_err(|e| PrivacyError::Data(e.to_string()))?;
        let extractor = ua_parser::Extractor::try_from(regexes)
            .map_err(|e| PrivacyError::Data(e.to_string()))?;
        Ok(Self { extractor, bots: BotDetector::new()?, cache: Mutex::default() })
    }

    pub fn parse(&self, user_agent: &str) -> Arc<ClientInfo> {
        if let Some(hit) = self.cached(user_agent) {
            return hit;
        }
        let info = Arc::new(self.parse_uncached(user_agent));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(user_agent.into(), Arc::clone(&info));
        }
        info
    }

    fn cached(&self, user_agent: &str) -> Option<Arc<ClientInfo>> {
        self.cache.lock().ok()?.get(user_agent).cloned()
    }

    fn parse_uncached(&self, user_agent: &str) -> ClientInfo {
        let (ua, os, device) = self.extractor.extract(user_agent);
        let known = |family: &str| (family != "Other").then(|| family.to_owned());
        let browser = ua.and_then(|v| known(&v.family));
        let os = os.and_then(|v| known(&v.os));
        let device = device.and_then(|v| known(&v.device));
        // isbot alone decides: uap-core's `Spider` device family also covers some agents that
        // isbot's fixtures count as real browsers (measured in tests/ua_corpus.rs).
        let is_bot = self.bots.is_bot(user_agent);
        let device_type = if is_bot {
            DeviceType::Bot
        } else {
            device_type(user_agent, os.as_deref(), device.as_deref())
        };
        ClientInfo { browser, os, device, device_type, is_bot }
    }
}

/// Tablet before mobile (tablets also say Android/iOS), then mobile operating systems and the
/// `Mobi` token browsers use to ask for mobile pages, then desktop operating systems.
fn device_type(user_agent: &str, os: Option<&str>, device: Option<&str>) -> DeviceType {
    let os = os.unwrap_or("");
    let device = device.unwrap_or("");
    let tablet = device.contains("iPad")
        || device.contains("Tablet")
        || device.starts_with("Kindle")
        || user_agent.contains("Tablet")
        || (os == "Android" && !user_agent.contains("Mobile"));
    if tablet && !user_agent.contains("Mobi") {
        return DeviceType::Tablet;
    }
    const MOBILE_OS: [&str; 8] = [
        "iOS",
        "Android",
        "Windows Phone",
        "BlackBerry OS",
        "KaiOS",
        "Symbian OS",
        "Firefox OS",
        "Tizen",
    ];
    if MOBILE_OS.contains(&os) || user_agent.contains("Mobi") || device == "iPhone" {
        return DeviceType::Mobile;
    }
    const DESKTOP_OS: [&str; 10] = [
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "Fedora",
        "FreeBSD",
        "Debian",
        "OpenBSD",
        "NetBSD",
    ];
    if DESKTOP_OS.contains(&os) || os.starts_with("Windows") {
        return DeviceType::Desktop;
    }
    DeviceType::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers() {
        let p = UserAgentParser::new().unwrap();
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                ("Chrome", "Windows", DeviceType::Desktop),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                ("Mobile Safari", "iOS", DeviceType::Mobile),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/604.1",
                ("Mobile Safari UI/WKWebView", "iOS", DeviceType::Tablet),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
                ("Firefox", "Mac OS X", DeviceType::Desktop),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
                ("Chrome Mobile", "Android", DeviceType::Mobile),
            ),
        ];
        for (ua, (browser, os, device_type)) in cases {
            let info = p.parse(ua);
            assert_eq!(
                (info.browser.as_deref(), info.os.as_deref(), info.device_type),
                (Some(browser), Some(os), device_type),
                "{ua}"
            );
            assert!(!info.is_bot);
        }
    }

    #[test]
    fn bots_are_flagged_and_repeats_come_from_the_cache() {
        let p = UserAgentParser::new().unwrap();
        let ua = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)";
        let first = p.parse(ua);
        assert!(first.is_bot);
        assert_eq!(first.device_type, DeviceType::Bot);
        assert!(Arc::ptr_eq(&first, &p.parse(ua)));
    }
}
