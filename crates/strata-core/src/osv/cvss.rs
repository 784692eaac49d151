//! vulnerability stage: CVSS v3.x base scores from their vectors (the formula of the
//! CVSS v3.1 specification, section 7.1, with its Roundup of Appendix A) and the
//! qualitative rating scale (section 5). Pure.

use serde::Serialize;

/// The CVSS qualitative severity rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    /// The rating of a base score (0.0–10.0).
    pub fn of(score: f64) -> Rating {
        if score >= 9.0 {
            Rating::Critical
        } else if score >= 7.0 {
            Rating::High
        } else if score >= 4.0 {
            Rating::Medium
        } else if score > 0.0 {
            Rating::Low
        } else {
            Rating::None
        }
    }

    /// Reads a word rating (`HIGH`, `moderate`, `important`, …); `None` when unknown.
    pub fn parse(word: &str) -> Option<Rating> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Rating::Critical,
            "high" | "important" => Rating::High,
            "medium" | "moderate" => Rating::Medium,
            "low" | "negligible" | "unimportant" => Rating::Low,
            "none" => Rating::None,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::None => "none",
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Critical => "critical",
        }
    }
}

/// The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector; `None` when any base
/// metric is missing or unknown.
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut metrics = vector.trim().split('/');
    let version = metrics.next()?;
    if version != "CVSS:3.1" && version != "CVSS:3.0" {
        return None;
    }
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for metric in metrics {
        let (key, value) = metric.split_once(':')?;
        match key {
            "AV" => av = Some(value),
            "AC" => ac = Some(value),
            "PR" => pr = Some(value),
            "UI" => ui = Some(value),
            "S" => s = Some(value),
            "C" => c = Some(value),
            "I" => i = Some(value),
            "A" => a = Some(value),
            _ => {}
        }
    }
    let changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |v: Option<&str>| match v? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (cia(c)?, cia(i)?, cia(a)?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let sum = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(roundup(sum.min(10.0)))
}

/// CVSS v3.1 Appendix A: the smallest one-decimal number not below `x`, computed in
/// integers so floating-point noise does not round 4.0000001 up to 4.1.
fn roundup(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_scores_of_the_specification_examples() {
        // Examples from FIRST's CVSS v3.1 calculator and the NVD.
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ];
        for (vector, want) in cases {
            assert_eq!(cvss3_base_score(vector), Some(want), "{vector}");
        }
        assert_eq!(cvss3_base_score("CVSS:3.1/AV:N"), None);
        assert_eq!(cvss3_base_score("CVSS:4.0/AV:N/AC:L"), None);
        assert_eq!(Rating::of(9.8), Rating::Critical);
        assert_eq!(Rating::of(3.1), Rating::Low);
    }
}
