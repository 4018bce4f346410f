//! An inline SVG chart of `reports::charts` geometry, rendered on its own
//! (`templates/chart.html`, escaped like every page) and placed into a page
//! as markup. Shared by the reports and the timer page.

use askama::Template;

use crate::{error::AppError, reports::charts::Svg};

#[derive(Template)]
#[template(path = "chart.html")]
pub struct Chart<'a> {
    /// The element id; its title and description get `-title`, `-desc`.
    pub id: &'a str,
    /// `data-chart`: what it shows (`time`, `share`, `week`, `top`).
    pub kind: &'a str,
    pub title: String,
    /// What the picture shows, for screen readers, and where its numbers are.
    pub description: String,
    pub svg: Svg,
    /// (name, colour) of each series, shown under the chart.
    pub legend: Vec<(String, &'static str)>,
    /// Explain the solid billable and faint non-billable parts.
    pub billable_note: bool,
}

impl Chart<'_> {
    pub fn markup(&self) -> Result<String, AppError> {
        self.render()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("chart rendering failed: {e}")))
    }
}
