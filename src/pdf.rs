//! PDF drawing shared by the printed report and the invoice: the shipped
//! fonts (DejaVu Sans and Sans Bold from `assets/fonts/`, subset into each
//! file by krilla; nothing is fetched at run time), the paper sizes, and
//! text, rules, boxes and tables laid out with fixed line heights (a cell
//! that does not fit its column is cut with an ellipsis, never wrapped).

use std::sync::LazyLock;

use krilla::{
    color::rgb,
    geom::{PathBuilder, Point, Rect},
    num::NormalizedF32,
    paint::{Fill, Stroke},
    surface::Surface,
    text::{Font, TextDirection},
};

use crate::domain::formats::{DateOrder, LocalFormat};

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// A font and its metrics, parsed once per process: [`FACES`] holds the
/// regular and the bold.
pub struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Self {
        Self {
            font: Font::new(data.into(), 0).expect("the shipped font is valid"),
            metrics: ttf_parser::Face::parse(data, 0).expect("the shipped font is valid"),
        }
    }

    /// The width of `text` at `size` points (advances, without kerning,
    /// which only narrows it).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                self.metrics
                    .glyph_index(c)
                    .and_then(|g| self.metrics.glyph_hor_advance(g))
                    .unwrap_or(0) as u32
            })
            .sum();
        units as f32 * size / f32::from(self.metrics.units_per_em())
    }
}

pub static FACES: LazyLock<(Face, Face)> =
    LazyLock::new(|| (Face::load(REGULAR), Face::load(BOLD)));

/// The paper a PDF is laid out on (`a4`, `letter` in forms and the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// A stored or typed value: `a4` or `letter`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "a4" => Some(Self::A4),
            "letter" => Some(Self::Letter),
            _ => None,
        }
    }

    /// The paper people who write dates this way use: US Letter with
    /// month-first dates, else A4.
    pub fn for_format(fmt: &LocalFormat) -> Self {
        if fmt.date == DateOrder::MonthDayYear {
            Self::Letter
        } else {
            Self::A4
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A4 => "a4",
            Self::Letter => "letter",
        }
    }

    /// Width and height in points.
    pub fn size(self) -> (f32, f32) {
        match self {
            Self::A4 => (595.28, 841.89),
            Self::Letter => (612.0, 792.0),
        }
    }
}

/// The side margins, in points.
pub const MARGIN: f32 = 42.0;
/// From the paper's top to the header's first line, and from the footer to
/// the bottom.
pub const TOP: f32 = 40.0;
/// Where the body starts, under the header.
pub const BODY_TOP: f32 = TOP + 40.0;
/// A line of a table.
pub const LINE: f32 = 13.0;
/// Body text size.
pub const SIZE: f32 = 8.5;
/// Header, footer and caption size.
pub const SMALL: f32 = 7.5;
/// Space between columns.
pub const GAP: f32 = 4.0;

pub const INK: (u8, u8, u8) = (26, 32, 44);
pub const MUTED: (u8, u8, u8) = (90, 98, 112);
pub const RULE: (u8, u8, u8) = (200, 205, 212);

/// A column of a table: its heading, width in points, and whether its text
/// is aligned to the right (numbers).
#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub width: f32,
    pub right: bool,
}

/// One line of a table, drawn plain or in bold.
pub struct TableLine {
    pub cells: Vec<String>,
    pub bold: bool,
}

pub fn number(title: &'static str, width: f32) -> Column {
    Column {
        title,
        width,
        right: true,
    }
}

pub fn text_column(title: &'static str, width: f32) -> Column {
    Column {
        title,
        width,
        right: false,
    }
}

/// A table: its heading row in bold over a rule, then its lines.
pub fn draw_table(s: &mut Surface, columns: &[Column], lines: &[TableLine], x: f32, y: f32) {
    let width: f32 = columns.iter().map(|c| c.width).sum();
    let titles: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
    draw_row(s, columns, &titles, true, x, y);
    rule(s, x, x + width, y + LINE - 1.0, INK);
    let mut y = y + LINE + 1.0;
    for line in lines {
        if line.bold {
            rule(s, x, x + width, y - 0.5, RULE);
        }
        draw_row(s, columns, &line.cells, line.bold, x, y);
        y += LINE;
    }
}

pub fn draw_row(s: &mut Surface, columns: &[Column], cells: &[String], bold: bool, x: f32, y: f32) {
    let face = if bold { &FACES.1 } else { &FACES.0 };
    let mut left = x;
    for (column, cell) in columns.iter().zip(cells) {
        let room = column.width - GAP;
        let shown = fit(face, cell, SIZE, room);
        let at = if column.right {
            left + room - face.width(&shown, SIZE)
        } else {
            left
        };
        text(s, face, SIZE, INK, at, y + 9.0, &shown);
        left += column.width;
    }
}

/// `text` cut to `room` points with an ellipsis.
pub fn fit(face: &Face, text: &str, size: f32, room: f32) -> String {
    if face.width(text, size) <= room {
        return text.to_owned();
    }
    let ellipsis = face.width("…", size);
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = face.width(c.encode_utf8(&mut [0; 4]), size);
        if used + w + ellipsis > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

pub fn paint(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

pub fn text(s: &mut Surface, face: &Face, size: f32, color: (u8, u8, u8), x: f32, y: f32, t: &str) {
    if t.is_empty() {
        return;
    }
    s.set_fill(Some(paint(color)));
    s.draw_text(
        Point::from_xy(x, y),
        face.font.clone(),
        size,
        t,
        false,
        TextDirection::Auto,
    );
}

pub fn rect(s: &mut Surface, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
    let Some(area) = Rect::from_xywh(x, y, w.max(0.01), h) else {
        return;
    };
    let mut pb = PathBuilder::new();
    pb.push_rect(area);
    if let Some(path) = pb.finish() {
        s.set_fill(Some(paint(color)));
        s.set_stroke(None);
        s.draw_path(&path);
    }
}

pub fn rule(s: &mut Surface, x1: f32, x2: f32, y: f32, color: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    pb.move_to(x1, y);
    pb.line_to(x2, y);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width: 0.6,
            ..Default::default()
        }));
        s.draw_path(&path);
        s.set_stroke(None);
    }
}

/// The image formats a logo may have.
pub const IMAGE_TYPES: [&str; 2] = ["image/png", "image/jpeg"];

/// The largest side of a logo in pixels: a printed logo is a few
/// centimetres wide, and a bound on the pixels bounds the decoding.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// An image for a page, from a file of one of [`IMAGE_TYPES`], told by
/// its first bytes (not by the name or the type a browser claimed).
/// Reads only the header: decoding waits for the document's `finish`.
pub fn image(file: krilla::Data) -> Result<(&'static str, krilla::image::Image), String> {
    let bytes: &[u8] = file.as_ref();
    let (kind, image) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        (IMAGE_TYPES[0], krilla::image::Image::from_png(file, true))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (IMAGE_TYPES[1], krilla::image::Image::from_jpeg(file, true))
    } else {
        return Err("This is not a PNG or JPEG image.".into());
    };
    let image = image.map_err(|_| "This image could not be read.".to_string())?;
    let (w, h) = image.size();
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "The image is {w} × {h} pixels; at most {MAX_IMAGE_SIDE} pixels a side."
        ));
    }
    Ok((kind, image))
}

/// Reads a whole image the way a document will (decoding every pixel into
/// a throwaway page), so that a file that only starts like an image is
/// refused when it is uploaded, not when an invoice is printed. Returns
/// its type and size in pixels. CPU-bound: call it off the async threads.
pub fn check_image(file: krilla::Data) -> Result<(&'static str, u32, u32), String> {
    let (kind, image) = image(file)?;
    let (w, h) = image.size();
    let mut doc = krilla::Document::new();
    let mut page = doc.start_page();
    let mut s = page.surface();
    s.draw_image(
        image,
        krilla::geom::Size::from_wh(10.0, 10.0).expect("a positive size"),
    );
    s.finish();
    page.finish();
    doc.finish().map_err(|_| {
        "This image could not be read (it may be damaged or use 16 bits per channel).".to_string()
    })?;
    Ok((kind, w, h))
}

/// Draws `image` fitted into a `max_w` × `max_h` box whose top-left corner
/// is at (`x`, `y`), keeping its proportions; returns the drawn height.
pub fn draw_image_fit(
    s: &mut Surface,
    image: krilla::image::Image,
    x: f32,
    y: f32,
    max_w: f32,
    max_h: f32,
) -> f32 {
    let (w, h) = image.size();
    let scale = (max_w / w as f32).min(max_h / h as f32);
    let (dw, dh) = (w as f32 * scale, h as f32 * scale);
    let Some(size) = krilla::geom::Size::from_wh(dw, dh) else {
        return 0.0;
    };
    s.push_transform(&krilla::geom::Transform::from_translate(x, y));
    s.draw_image(image, size);
    s.pop();
    dh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_too_wide_for_its_column_is_cut_with_an_ellipsis() {
        let face = &FACES.0;
        let long = "A very long description of the work that was done";
        let cut = fit(face, long, SIZE, 60.0);
        assert!(cut.ends_with('…') && cut.len() < long.len(), "{cut}");
        assert!(face.width(&cut, SIZE) <= 60.0);
        assert_eq!(fit(face, "short", SIZE, 60.0), "short");
    }

    #[test]
    fn an_image_is_told_by_its_bytes_and_read_whole_before_it_is_kept() {
        let png = include_bytes!("../tests/fixtures/logo.png").to_vec();
        assert_eq!(check_image(png.clone().into()), Ok(("image/png", 240, 80)));
        let jpeg = include_bytes!("../tests/fixtures/logo.jpg").to_vec();
        assert_eq!(check_image(jpeg.into()), Ok(("image/jpeg", 180, 60)));
        let err = |bytes: Vec<u8>| check_image(bytes.into()).expect_err("refused");
        assert!(err(b"GIF89a....".to_vec()).contains("not a PNG or JPEG"));
        // A PNG cut short: its header reads, its pixels do not.
        assert!(err(png[..png.len() - 30].to_vec()).contains("could not be read"));
    }
}
