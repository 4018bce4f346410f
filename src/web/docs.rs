//! The operator documentation that concerns what leaves the server, served by
//! the app itself (compiled in, so it always matches the running version),
//! rendered from its Markdown to HTML in the app's layout.
//!
//! Links between the served pages point at their `/docs/…` routes (anchors
//! kept; headings get GitHub's ids so they resolve); a link to a Markdown file
//! the app does not serve becomes plain text naming the file, never a dead link.

use askama::Template;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use super::{Layout, render};
use crate::{error::AppError, http::extract::Path};

/// The pages, by route name, with their source.
const PAGES: &[(&str, &str)] = &[
    ("privacy", include_str!("../../docs/privacy.md")),
    ("telemetry", include_str!("../../docs/telemetry.md")),
    ("analytics", include_str!("../../docs/analytics.md")),
    ("events", include_str!("../../docs/events.md")),
];

#[derive(Template)]
#[template(path = "doc.html")]
struct DocPage {
    layout: Layout,
    body: String,
}

/// `GET /docs/{page}`: `privacy`, `telemetry`, `analytics` or `events`.
pub async fn page(Path(page): Path<String>) -> Result<axum::response::Html<String>, AppError> {
    let (_, source) = PAGES
        .iter()
        .find(|(name, _)| *name == page)
        .ok_or(AppError::NotFound)?;
    let title = source
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or("Documentation");
    render(&DocPage {
        layout: Layout::anonymous(title, String::new()),
        body: to_html(source),
    })
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Where a link of the Markdown leads in the app: a served page, an anchor,
/// an outside address; `None` for a file the app does not serve.
fn target(dest: &str) -> Option<String> {
    let (file, anchor) = dest.split_once('#').unwrap_or((dest, ""));
    let Some(name) = file.strip_suffix(".md") else {
        return Some(dest.to_owned());
    };
    PAGES
        .iter()
        .find(|(page, _)| *page == name)
        .map(|(page, _)| {
            if anchor.is_empty() {
                format!("/docs/{page}")
            } else {
                format!("/docs/{page}#{anchor}")
            }
        })
}

fn to_html(markdown: &str) -> String {
    let mut events = Vec::new();
    let mut heading: Option<(HeadingLevel, Vec<Event>)> = None;
    let mut dropped_links = 0usize;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, Vec::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, inner)) = heading.take() {
                    let text: String = inner
                        .iter()
                        .filter_map(|e| match e {
                            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                            _ => None,
                        })
                        .collect();
                    let mut inner_html = String::new();
                    html::push_html(&mut inner_html, inner.into_iter());
                    events.push(Event::Html(CowStr::from(format!(
                        "<{level} id=\"{}\">{inner_html}</{level}>\n",
                        slug(&text)
                    ))));
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let link = match target(&dest_url) {
                    Some(url) => Event::Start(Tag::Link {
                        link_type,
                        dest_url: url.into(),
                        title,
                        id,
                    }),
                    None => {
                        dropped_links += 1;
                        continue;
                    }
                };
                push(&mut events, &mut heading, link);
            }
            Event::End(TagEnd::Link) if dropped_links > 0 => {
                dropped_links -= 1;
            }
            other => push(&mut events, &mut heading, other),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

fn push<'a>(
    events: &mut Vec<Event<'a>>,
    heading: &mut Option<(HeadingLevel, Vec<Event<'a>>)>,
    event: Event<'a>,
) {
    match heading {
        Some((_, inner)) => inner.push(event),
        None => events.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_between_served_pages_follow_and_others_become_text() {
        let html = to_html(
            "# Top\n\nSee [events](events.md), [who](analytics.md#who-is-never-tracked), \
             [Sentry](monitoring.md#errors-sentry) and [PostHog](https://posthog.com/).\n\n## Who is never tracked\n",
        );
        assert!(
            html.contains(r#"<a href="/docs/events">events</a>"#),
            "{html}"
        );
        assert!(html.contains(r#"<a href="/docs/analytics#who-is-never-tracked">who</a>"#));
        assert!(
            html.contains("Sentry") && !html.contains("monitoring.md"),
            "{html}"
        );
        assert!(html.contains(r#"<a href="https://posthog.com/">PostHog</a>"#));
        assert!(
            html.contains(r#"<h2 id="who-is-never-tracked">Who is never tracked</h2>"#),
            "{html}"
        );
    }
}
