//! Invoice money, exact: integer cents, hours in hundredths, rates in
//! hundredths of a percent, every rounding half up, in one place.
//!
//! The rule, applied in this order:
//! 1. A line's net is its hours times its price per hour, rounded to the
//!    cent: `round(centihours × unit_cents / 100)`.
//! 2. The lines are grouped by tax rate. Each group's discount is its net
//!    times the invoice's discount, rounded to the cent; the invoice's
//!    discount is the sum of the groups'.
//! 3. Each group's tax is its net after discount times its rate, rounded
//!    to the cent; the invoice's tax is the sum of the groups'.
//! 4. The total is the net, less the discount, plus the tax.
//!
//! So the lines add up to the net, each rate's tax is shown and they add up
//! to the tax, and the total adds up, to the cent (property tests below).

use chrono::{Datelike, NaiveDate};

use super::ValidationError;

/// `a × b / d`, rounded half up, for non-negative `a` and `b` and positive `d`.
fn mul_div_round(a: i64, b: i64, d: i64) -> i64 {
    let product = i128::from(a) * i128::from(b);
    let d = i128::from(d);
    ((product + d / 2) / d) as i64
}

/// A line as priced: hundredths of an hour at cents per hour, taxed at
/// `tax_bp` hundredths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    pub centihours: i64,
    pub unit_cents: i64,
    pub tax_bp: i32,
}

impl Priced {
    /// The line's net in cents.
    pub fn net_cents(&self) -> i64 {
        mul_div_round(self.centihours, self.unit_cents, 100)
    }
}

/// Hours in hundredths from seconds, rounded half up (36 s is 0.01 h).
pub fn centihours(seconds: i64) -> i64 {
    mul_div_round(seconds.max(0), 1, 36)
}

/// One tax rate's part of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxPart {
    pub tax_bp: i32,
    pub net_cents: i64,
    pub discount_cents: i64,
    pub tax_cents: i64,
}

/// An invoice's sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub net_cents: i64,
    pub discount_cents: i64,
    /// Per tax rate, lowest rate first.
    pub taxes: Vec<TaxPart>,
    pub tax_cents: i64,
    pub total_cents: i64,
}

/// The sums of `lines` with a discount of `discount_bp` (hundredths of a
/// percent), by the rule in this module's comment.
pub fn totals(lines: &[Priced], discount_bp: i32) -> Totals {
    let mut taxes: Vec<TaxPart> = Vec::new();
    for line in lines {
        let net = line.net_cents();
        match taxes.iter_mut().find(|t| t.tax_bp == line.tax_bp) {
            Some(part) => part.net_cents += net,
            None => taxes.push(TaxPart {
                tax_bp: line.tax_bp,
                net_cents: net,
                discount_cents: 0,
                tax_cents: 0,
            }),
        }
    }
    taxes.sort_by_key(|t| t.tax_bp);
    for part in &mut taxes {
        part.discount_cents = mul_div_round(part.net_cents, i64::from(discount_bp), 10_000);
        part.tax_cents = mul_div_round(
            part.net_cents - part.discount_cents,
            i64::from(part.tax_bp),
            10_000,
        );
    }
    let net_cents = taxes.iter().map(|t| t.net_cents).sum();
    let discount_cents = taxes.iter().map(|t| t.discount_cents).sum();
    let tax_cents = taxes.iter().map(|t| t.tax_cents).sum();
    Totals {
        net_cents,
        discount_cents,
        tax_cents,
        total_cents: net_cents - discount_cents + tax_cents,
        taxes,
    }
}

/// A percentage typed in a form (`19`, `7.5`, `0`), in hundredths of a
/// percent, between 0 and 100 %.
pub fn parse_percent(field: &'static str, raw: &str) -> Result<i32, ValidationError> {
    let raw = raw.trim().trim_end_matches('%').trim().replace(',', ".");
    if raw.is_empty() {
        return Ok(0);
    }
    let bad = || ValidationError::new(field, "Enter a percentage from 0 to 100, like 19 or 7.5.");
    let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
    if fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.is_empty() {
        return Err(bad());
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i32 = whole.parse().map_err(|_| bad())?;
    let fraction: i32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let bp = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    if bp > 10_000 {
        return Err(bad());
    }
    Ok(bp)
}

/// Hundredths of a percent as people write them: `19 %`, `7.5 %`.
pub fn format_percent(bp: i32) -> String {
    if bp % 100 == 0 {
        format!("{} %", bp / 100)
    } else {
        let text = format!("{}.{:02}", bp / 100, bp % 100);
        format!("{} %", text.trim_end_matches('0'))
    }
}

/// Hundredths of an hour as written on an invoice: `1.25`.
pub fn format_hours(centihours: i64) -> String {
    format!("{}.{:02}", centihours / 100, centihours % 100)
}

/// A rate given as a whole number of hundredths of a percent (the API's
/// `tax_bp`), from 0 to 10,000.
pub fn basis_points(field: &'static str, bp: i64) -> Result<i32, ValidationError> {
    i32::try_from(bp)
        .ok()
        .filter(|bp| (0..=10_000).contains(bp))
        .ok_or_else(|| {
            ValidationError::new(
                field,
                "Give a rate from 0 to 10000 hundredths of a percent.",
            )
        })
}

/// Hundredths (of an hour, of a currency unit) given as a whole number (the
/// API's `centihours`, `unit_cents`), within what a form may type.
pub fn hundredths(field: &'static str, value: i64) -> Result<i64, ValidationError> {
    Some(value)
        .filter(|v| (0..=100_000_000).contains(v))
        .ok_or_else(|| ValidationError::new(field, "Give a number from 0 to 100000000."))
}

/// Hours typed on a draft's line (`1.25`, `1,5`, `2`), in hundredths.
pub fn parse_hours(field: &'static str, raw: &str) -> Result<i64, ValidationError> {
    parse_hundredths(raw)
        .filter(|h| *h <= 100_000_000)
        .ok_or_else(|| ValidationError::new(field, "Enter hours like 1.25 (at most two decimals)."))
}

/// A price typed on a draft's line (`95`, `95.50`), in cents.
pub fn parse_money(field: &'static str, raw: &str) -> Result<i64, ValidationError> {
    parse_hundredths(raw)
        .filter(|c| *c <= 100_000_000)
        .ok_or_else(|| {
            ValidationError::new(field, "Enter an amount like 95.50 (at most two decimals).")
        })
}

fn parse_hundredths(raw: &str) -> Option<i64> {
    let raw = raw.trim().replace(',', ".");
    let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// An invoice number pattern: text with `{YYYY}` (the year of issue),
/// `{YY}`, and `{seq}` or `{seq:N}` (the year's sequence, at least N
/// digits), which it must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern(String);

impl NumberPattern {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let bad = |m: &str| ValidationError::new("invoice_number_pattern", m);
        if raw.is_empty() || raw.chars().count() > 50 {
            return Err(bad(
                "Enter a pattern of at most 50 characters, like {YYYY}-{seq:4}.",
            ));
        }
        let mut seq = 0;
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| bad("Close every { with a }."))?;
            let token = &rest[open + 1..open + close];
            match token {
                "YYYY" | "YY" => {}
                "seq" => seq += 1,
                t if t
                    .strip_prefix("seq:")
                    .is_some_and(|n| n.parse::<u8>().is_ok_and(|n| (1..=9).contains(&n))) =>
                {
                    seq += 1
                }
                _ => {
                    return Err(bad(
                        "Use only {YYYY}, {YY}, {seq} and {seq:N} (N from 1 to 9).",
                    ));
                }
            }
            rest = &rest[open + close + 1..];
        }
        if seq != 1 {
            return Err(bad(
                "Put the year's sequence, {seq} or {seq:4}, in the pattern once.",
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(bad("Use printable characters only."));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number of the `seq`th invoice issued on `day`.
    pub fn number(&self, day: NaiveDate, seq: i32) -> String {
        let mut out = String::new();
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').unwrap_or(rest.len() - open);
            let token = &rest[open + 1..close];
            match token {
                "YYYY" => out.push_str(&format!("{:04}", day.year())),
                "YY" => out.push_str(&format!("{:02}", day.year() % 100)),
                "seq" => out.push_str(&seq.to_string()),
                t => {
                    let width = t
                        .strip_prefix("seq:")
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(1);
                    out.push_str(&format!("{seq:0width$}"));
                }
            }
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(centihours: i64, unit_cents: i64, tax_bp: i32) -> Priced {
        Priced {
            centihours,
            unit_cents,
            tax_bp,
        }
    }

    #[test]
    fn a_worked_example_follows_the_rule() {
        // 1.25 h at 100.00 (19 %), 0.33 h at 95.50 (7 %), 2 h at 80.00 (19 %),
        // 10 % discount.
        let t = totals(
            &[
                line(125, 10_000, 1900),
                line(33, 9550, 700),
                line(200, 8000, 1900),
            ],
            1000,
        );
        assert_eq!(t.net_cents, 12_500 + 3152 + 16_000);
        assert_eq!(
            t.taxes,
            [
                TaxPart {
                    tax_bp: 700,
                    net_cents: 3152,
                    discount_cents: 315,
                    tax_cents: 199
                },
                TaxPart {
                    tax_bp: 1900,
                    net_cents: 28_500,
                    discount_cents: 2850,
                    tax_cents: 4874
                },
            ]
        );
        assert_eq!(t.total_cents, 31_652 - 3165 + 5073);
    }

    #[test]
    fn percentages_hours_and_money_parse_exactly_or_say_why_not() {
        assert_eq!(parse_percent("tax", "19"), Ok(1900));
        assert_eq!(parse_percent("tax", "7,5 %"), Ok(750));
        assert_eq!(parse_percent("tax", ""), Ok(0));
        assert!(parse_percent("tax", "100.01").is_err());
        assert!(parse_percent("tax", "-1").is_err());
        assert!(parse_percent("tax", "1.234").is_err());
        assert_eq!(parse_hours("hours", "1.5"), Ok(150));
        assert_eq!(parse_money("unit", "95,05"), Ok(9505));
        assert!(parse_money("unit", "1e3").is_err());
        assert!(parse_hours("hours", "99999999999999").is_err());
        assert_eq!(format_percent(750), "7.5 %");
        assert_eq!(format_percent(1900), "19 %");
        assert_eq!(format_hours(125), "1.25");
        assert_eq!(centihours(45 * 60), 75);
        assert_eq!(centihours(17), 0);
        assert_eq!(centihours(18), 1);
    }

    #[test]
    fn number_patterns_need_one_sequence_and_write_the_year() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a day");
        let p = NumberPattern::parse("{YYYY}-{seq:4}").expect("valid");
        assert_eq!(p.number(day, 7), "2026-0007");
        assert_eq!(p.number(day, 12_345), "2026-12345");
        let p = NumberPattern::parse("INV/{YY}/{seq}").expect("valid");
        assert_eq!(p.number(day, 3), "INV/26/3");
        for bad in [
            "",
            "{YYYY}",
            "{seq}{seq}",
            "{month}-{seq}",
            "{seq:0}",
            "{seq",
            "{seq:12}",
        ] {
            assert!(NumberPattern::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn lines_taxes_and_the_total_add_up_to_the_cent(
            lines in prop::collection::vec(
                (0i64..1_000_000, 0i64..10_000_000, prop::sample::select(vec![0, 700, 1900, 2000, 2550])),
                0..40,
            ),
            discount_bp in 0i32..=10_000,
        ) {
            let lines: Vec<Priced> = lines.into_iter().map(|(h, u, t)| line(h, u, t)).collect();
            let t = totals(&lines, discount_bp);
            prop_assert_eq!(t.net_cents, lines.iter().map(Priced::net_cents).sum::<i64>());
            prop_assert_eq!(t.tax_cents, t.taxes.iter().map(|p| p.tax_cents).sum::<i64>());
            prop_assert_eq!(t.discount_cents, t.taxes.iter().map(|p| p.discount_cents).sum::<i64>());
            prop_assert_eq!(t.total_cents, t.net_cents - t.discount_cents + t.tax_cents);
            for part in &t.taxes {
                let base = part.net_cents - part.discount_cents;
                // Each part's tax is within half a cent of the exact figure.
                let exact = base as f64 * f64::from(part.tax_bp) / 10_000.0;
                prop_assert!((part.tax_cents as f64 - exact).abs() <= 0.5 + 1e-6);
                prop_assert!(part.discount_cents <= part.net_cents);
            }
            prop_assert!(t.total_cents >= 0);
        }
    }
}
