//! A summary's rows as a table reads them: each group's rows, then (with a
//! second grouping) the group's subtotal, and the total last. The Reports
//! page and the summary exports lay out the same lines.

use crate::db::reports::SummaryRow;

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Row,
    /// The sum of the rows of one group above it.
    Subtotal,
    /// The sum of every row.
    Total,
}

/// One line of a grouped summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    /// The group (empty on the total).
    pub key: String,
    /// The second grouping's value (empty on subtotals and the total, and
    /// without a second grouping).
    pub subkey: String,
    pub seconds: i64,
    pub billable_seconds: i64,
    /// `None` for a viewer who may not see amounts.
    pub amount_cents: Option<i64>,
}

impl Line {
    /// What the first columns of the line say: its group and (when
    /// `subgrouped`) second grouping; `Subtotal` beside a group's sum and
    /// `Total` on the last line. Plain text: a CSV neutralises formulas.
    pub fn keys(&self, subgrouped: bool) -> Vec<String> {
        let (key, subkey) = match self.kind {
            Kind::Row => (self.key.clone(), self.subkey.clone()),
            Kind::Subtotal => (self.key.clone(), "Subtotal".to_owned()),
            Kind::Total => ("Total".to_owned(), String::new()),
        };
        if subgrouped {
            vec![key, subkey]
        } else {
            vec![key]
        }
    }

    fn start(kind: Kind, key: &str) -> Self {
        Self {
            kind,
            key: key.to_owned(),
            subkey: String::new(),
            seconds: 0,
            billable_seconds: 0,
            amount_cents: None,
        }
    }

    fn add(&mut self, row: &SummaryRow) {
        self.seconds += row.seconds;
        self.billable_seconds += row.billable_seconds;
        self.amount_cents = match (self.amount_cents, row.amount_cents) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }
}

/// The lines of `rows` (ordered by group, as `db::reports::summary` returns
/// them); subtotals only when `subgrouped`.
pub fn lines(rows: &[SummaryRow], subgrouped: bool) -> Vec<Line> {
    let mut out = Vec::with_capacity(rows.len() * 2 + 1);
    let mut total = Line::start(Kind::Total, "");
    let mut group: Option<Line> = None;
    for row in rows {
        if subgrouped {
            match &mut group {
                Some(g) if g.key == row.key => {}
                _ => {
                    out.extend(group.take());
                    group = Some(Line::start(Kind::Subtotal, &row.key));
                }
            }
        }
        out.push(Line {
            kind: Kind::Row,
            key: row.key.clone(),
            subkey: row.subkey.clone(),
            seconds: row.seconds,
            billable_seconds: row.billable_seconds,
            amount_cents: row.amount_cents,
        });
        if let Some(g) = &mut group {
            g.add(row);
        }
        total.add(row);
    }
    out.extend(group);
    out.push(total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, subkey: &str, seconds: i64, amount: Option<i64>) -> SummaryRow {
        SummaryRow {
            key: key.into(),
            subkey: subkey.into(),
            seconds,
            billable_seconds: seconds / 2,
            amount_cents: amount,
        }
    }

    #[test]
    fn each_group_ends_with_its_subtotal_and_the_total_comes_last() {
        let rows = [
            row("Acme", "Web", 3600, Some(100)),
            row("Acme", "App", 1800, Some(50)),
            row("Beta", "Ops", 60, Some(1)),
        ];
        let lines = lines(&rows, true);
        let shape: Vec<(Kind, &str, &str, i64)> = lines
            .iter()
            .map(|l| (l.kind, l.key.as_str(), l.subkey.as_str(), l.seconds))
            .collect();
        assert_eq!(
            shape,
            [
                (Kind::Row, "Acme", "Web", 3600),
                (Kind::Row, "Acme", "App", 1800),
                (Kind::Subtotal, "Acme", "", 5400),
                (Kind::Row, "Beta", "Ops", 60),
                (Kind::Subtotal, "Beta", "", 60),
                (Kind::Total, "", "", 5460),
            ]
        );
        assert_eq!(lines[2].amount_cents, Some(150));
        assert_eq!(lines[2].billable_seconds, 1800 + 900);
        assert_eq!(lines[5].amount_cents, Some(151));
    }

    #[test]
    fn without_a_second_grouping_there_are_no_subtotals_and_hidden_amounts_stay_hidden() {
        let rows = [row("A", "", 10, None), row("B", "", 20, None)];
        let lines = lines(&rows, false);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.kind != Kind::Subtotal));
        assert_eq!(lines[2].seconds, 30);
        assert_eq!(lines[2].amount_cents, None);
    }

    #[test]
    fn an_empty_summary_is_a_zero_total() {
        let lines = lines(&[], true);
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].kind, lines[0].seconds), (Kind::Total, 0));
    }
}
