//! The invoice as a PDF: the seller and the client, the number and the
//! dates, the lines, the sums by the one money rule, the note and the bank
//! details; the lines run over as many pages as they need.
//!
//! The same invoice always gives the same bytes: nothing in the file
//! depends on when it was made (no generation time, no creation date), so a
//! rebuild after a crash replaces the file with an identical one.

use krilla::{Document, metadata::Metadata, page::PageSettings, surface::Surface};

use super::invoices::Full;
use crate::{
    db::invoices::{Invoice, Seller},
    domain::{
        formats::LocalFormat,
        invoice::{format_hours, format_percent},
        tracking::format_cents,
    },
    pdf::{
        self, BODY_TOP, FACES, GAP, INK, LINE, MARGIN, MUTED, Paper, SIZE, SMALL, TOP, TableLine,
        draw_table, number, rule, text, text_column,
    },
};

/// The seller an issued invoice was issued with (its snapshot); a draft's
/// is empty.
pub fn seller(invoice: &Invoice) -> Seller {
    invoice
        .seller
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The logo's box at the top left of the first page, in points (5 × 2 cm).
const LOGO_BOX: (f32, f32) = (141.7, 56.7);

/// The invoice's PDF, on the paper its seller snapshot names, with `logo`
/// (the file the snapshot's `seller_logo_id` names, if any), dates in `fmt`.
pub fn render(full: &Full, logo: Option<Vec<u8>>, fmt: &LocalFormat) -> Result<Vec<u8>, String> {
    let invoice = &full.invoice;
    let seller = seller(invoice);
    let paper = Paper::parse(&seller.invoice_paper).unwrap_or(Paper::A4);
    let logo = logo
        .map(|file| pdf::image(file.into()))
        .transpose()?
        .map(|(_, image)| image);
    let number_text = invoice.number.clone().unwrap_or_else(|| "Draft".into());
    let money = |cents: i64| format!("{} {}", format_cents(cents), invoice.currency);
    let (width, height) = paper.size();
    let usable = width - 2.0 * MARGIN;
    let columns = vec![
        text_column("Description", usable - 60.0 - 80.0 - 45.0 - 90.0),
        number("Hours", 60.0),
        number("Rate", 80.0),
        number("Tax", 45.0),
        number("Amount", 90.0),
    ];
    let lines: Vec<TableLine> = full
        .lines
        .iter()
        .map(|l| TableLine {
            cells: vec![
                l.description.clone(),
                format_hours(l.centihours),
                money(l.unit_cents),
                format_percent(l.tax_bp),
                money(super::invoices::priced(l).net_cents()),
            ],
            bold: false,
        })
        .collect();
    let sums: Vec<(String, String, bool)> = full
        .sums()
        .into_iter()
        .map(|sum| {
            let amount = money(sum.cents);
            let amount = if sum.deducted {
                format!("−{amount}")
            } else {
                amount
            };
            (sum.label, amount, sum.total)
        })
        .collect();

    // The plan first, so that every footer can say "Page N of M".
    let per_page = ((height - BODY_TOP - TOP - LINE) / LINE) as usize;
    let logo_height = logo.as_ref().map_or(0.0, |image| {
        let (w, h) = image.size();
        h as f32 * (LOGO_BOX.0 / w as f32).min(LOGO_BOX.1 / h as f32)
    });
    // Page 1: 11 lines of addresses and dates above the table, and the logo.
    let head_lines = 12 + ((logo_height + GAP * 2.0) / LINE).ceil() as usize;
    let closing_lines = closing_lines(&sums, &invoice.note, &seller);
    let mut pages: Vec<(&[TableLine], bool)> = Vec::new();
    let mut rest: &[TableLine] = &lines;
    loop {
        let take = if pages.is_empty() {
            per_page.saturating_sub(head_lines).max(1)
        } else {
            per_page - 1
        };
        let (now, later) = rest.split_at(take.min(rest.len()));
        rest = later;
        // The sums, the note and the bank details go under the last lines,
        // or on a page of their own when they do not fit.
        let closing = rest.is_empty() && take.saturating_sub(now.len()) > closing_lines;
        pages.push((now, closing));
        if rest.is_empty() {
            if !closing {
                pages.push((&[], true));
            }
            break;
        }
    }

    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("Invoice {number_text}"))
            .creator("TimeTracker".into()),
    );
    let count = pages.len();
    for (index, (now, closing)) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(
            PageSettings::from_wh(width, height).expect("the paper sizes are valid"),
        );
        let mut s = page.surface();
        footer(&mut s, width, height, &number_text, index + 1, count);
        let mut y = BODY_TOP - 40.0;
        if index == 0 {
            let mut top = TOP;
            if let Some(image) = logo.clone() {
                top += pdf::draw_image_fit(&mut s, image, MARGIN, TOP, LOGO_BOX.0, LOGO_BOX.1);
                top += GAP * 2.0;
            }
            y = head(&mut s, &seller, full, fmt, &number_text, width, top);
        }
        if !now.is_empty() || index == 0 {
            draw_table(&mut s, &columns, now, MARGIN, y);
            y += LINE * (now.len() as f32 + 1.0) + 1.0 + LINE;
        }
        if closing {
            closing_block(&mut s, &sums, &invoice.note, &seller, width, y);
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

/// How many lines [`closing_block`] takes.
fn closing_lines(sums: &[(String, String, bool)], note: &str, seller: &Seller) -> usize {
    let bank = if seller.seller_bank.is_empty() {
        0
    } else {
        2 + seller.seller_bank.lines().take(4).count()
    };
    sums.len() + 1 + note.lines().take(8).count() + bank
}

fn footer(s: &mut Surface, width: f32, height: f32, number: &str, page: usize, pages: usize) {
    let y = height - TOP + 10.0;
    text(
        s,
        &FACES.0,
        SMALL,
        MUTED,
        MARGIN,
        y,
        &format!("Invoice {number}"),
    );
    let label = format!("Page {page} of {pages}");
    let x = width - MARGIN - FACES.0.width(&label, SMALL);
    text(s, &FACES.0, SMALL, MUTED, x, y, &label);
}

/// The seller, the client, the number and the dates from `top` (under the
/// logo); returns the y under them.
fn head(
    s: &mut Surface,
    seller: &Seller,
    full: &Full,
    fmt: &LocalFormat,
    number: &str,
    width: f32,
    top: f32,
) -> f32 {
    let invoice = &full.invoice;
    let right = width - MARGIN;
    let mut y = top + 12.0;
    text(s, &FACES.1, 13.0, INK, MARGIN, y, &seller.seller_name);
    let title = "Invoice";
    text(
        s,
        &FACES.1,
        18.0,
        INK,
        right - FACES.1.width(title, 18.0),
        y + 2.0,
        title,
    );
    y += LINE * 1.3;
    let mut left_y = y;
    for line in seller.seller_address.lines().take(5) {
        text(s, &FACES.0, SIZE, INK, MARGIN, left_y, line);
        left_y += LINE;
    }
    if !seller.seller_tax_id.is_empty() {
        text(
            s,
            &FACES.0,
            SIZE,
            MUTED,
            MARGIN,
            left_y,
            &format!("Tax id {}", seller.seller_tax_id),
        );
        left_y += LINE;
    }
    let facts = [
        ("Number", number.to_owned()),
        (
            "Date",
            invoice
                .issued_on
                .map(|d| fmt.day(d))
                .unwrap_or_else(|| "not issued".into()),
        ),
        (
            "Period",
            format!(
                "{} to {}",
                fmt.day(invoice.period_from),
                fmt.day(invoice.period_to)
            ),
        ),
    ];
    let mut right_y = y;
    for (label, value) in facts {
        let value_x = right - FACES.0.width(&value, SIZE);
        text(s, &FACES.0, SIZE, INK, value_x, right_y, &value);
        text(
            s,
            &FACES.1,
            SIZE,
            INK,
            value_x - 8.0 - FACES.1.width(label, SIZE),
            right_y,
            label,
        );
        right_y += LINE;
    }
    y = left_y.max(right_y) + LINE;
    text(s, &FACES.1, SIZE, MUTED, MARGIN, y, "Bill to");
    y += LINE;
    text(s, &FACES.1, 10.0, INK, MARGIN, y, &invoice.client);
    y + LINE * 1.5 - 9.0
}

/// The sums (right-aligned), then the note and the bank details.
fn closing_block(
    s: &mut Surface,
    sums: &[(String, String, bool)],
    note: &str,
    seller: &Seller,
    width: f32,
    y: f32,
) {
    let right = width - MARGIN;
    let mut y = y;
    for (label, value, bold) in sums {
        let face = if *bold { &FACES.1 } else { &FACES.0 };
        if *bold {
            rule(s, right - 260.0, right, y - 10.0, INK);
        }
        text(
            s,
            face,
            SIZE,
            INK,
            right - GAP - face.width(value, SIZE), // flush with the table's amounts
            y,
            value,
        );
        text(s, face, SIZE, INK, right - 260.0, y, label);
        y += LINE;
    }
    y += LINE;
    for line in note.lines().take(8) {
        text(s, &FACES.0, SIZE, INK, MARGIN, y, line);
        y += LINE;
    }
    if !seller.seller_bank.is_empty() {
        y += LINE * 0.5;
        text(s, &FACES.1, SIZE, MUTED, MARGIN, y, "Payment to");
        y += LINE;
        for line in seller.seller_bank.lines().take(4) {
            text(s, &FACES.0, SIZE, INK, MARGIN, y, line);
            y += LINE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::invoices::Line;
    use chrono::NaiveDate;

    fn invoice(lines: usize, paper: &str) -> Full {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a day");
        let invoice = Invoice {
            id: 1,
            client_id: 1,
            client: "Acme".into(),
            status: "issued".into(),
            number: Some("2026-0001".into()),
            period_from: day,
            period_to: day,
            grouping: "entry".into(),
            currency: "EUR".into(),
            discount_bp: 500,
            note: "Thank you".into(),
            seller: Some(serde_json::json!({
                "seller_name": "Example", "seller_address": "1 Main Street", "seller_tax_id": "X1",
                "seller_bank": "IBAN 1", "invoice_number_pattern": "{YYYY}-{seq}",
                "invoice_paper": paper
            })),
            issued_on: Some(day),
            paid_on: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
        };
        let lines = (0..lines)
            .map(|i| Line {
                id: i as i64,
                invoice_id: 1,
                position: i as i32,
                description: format!("Work item {i}"),
                centihours: 125,
                unit_cents: 9550,
                tax_bp: if i % 2 == 0 { 1900 } else { 700 },
            })
            .collect();
        Full::new(invoice, lines)
    }

    #[test]
    fn the_same_invoice_always_gives_the_same_bytes() {
        let fmt = LocalFormat::iso();
        let first = render(&invoice(3, "a4"), None, &fmt).expect("a pdf");
        let again = render(&invoice(3, "a4"), None, &fmt).expect("a pdf");
        assert!(first.starts_with(b"%PDF-"));
        assert_eq!(
            first, again,
            "a rebuild replaces the file with the same one"
        );
    }

    #[test]
    fn many_lines_run_over_pages_with_the_sums_after_the_last() {
        let pdf = render(&invoice(200, "letter"), None, &LocalFormat::iso()).expect("a pdf");
        assert!(
            String::from_utf8_lossy(&pdf).contains("/MediaBox[0 0 612 792]"),
            "on the snapshot's paper, US Letter"
        );
        // The page tree's count: 200 lines at about 50 a page.
        let text = String::from_utf8_lossy(&pdf);
        let count: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .expect("a page count");
        assert!((4..=6).contains(&count), "{count} pages");
    }
}
