//! The few pages the BFF renders itself, outside the app: sign-in problems (before any session
//! exists) and a plain form post's refusal (a browser without the WASM bundle).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};

/// These pages load only the site stylesheet; everything else stays forbidden. Their forms post
/// to this origin and to `extra_form_action` (see [`confirm_page`]).
fn page_csp(extra_form_action: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action 'self'{}{extra_form_action}; frame-ancestors 'none'",
        if extra_form_action.is_empty() {
            ""
        } else {
            " "
        },
    )
}

/// A page saying what went wrong with a sign-in and offering to start again.
pub fn sign_in_problem(
    status: StatusCode,
    title: &str,
    message: &str,
    retry_href: &str,
) -> Response {
    problem_page(status, title, &[message], (retry_href, "Sign in again"))
}

/// A page saying what went wrong: a title, its paragraphs (text, escaped here) and one way on.
pub fn problem_page(
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    (href, label): (&str, &str),
) -> Response {
    let way_on = format!(
        r#"<p><a class="button button--primary" href="{href}">{label}</a></p>"#,
        href = escape(href),
        label = escape(label),
    );
    render(status, title, paragraphs, &way_on, "")
}

/// A page asking the member to confirm: its button posts `fields` to `action` (a same-origin
/// POST, so the CSRF check stands between another site and what it does). `redirected_to`: the
/// origins `action` may redirect the post to (space-separated), which the page's `form-action`
/// must admit too: Chromium applies it to the redirect that follows a form post.
pub fn confirm_page(
    title: &str,
    paragraphs: &[&str],
    (action, fields): (&str, &[(&str, &str)]),
    label: &str,
    redirected_to: &str,
) -> Response {
    let hidden: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    let form = format!(
        r#"<form method="post" action="{action}">{hidden}<button type="submit" class="button button--primary">{label}</button></form>"#,
        action = escape(action),
        label = escape(label),
    );
    render(StatusCode::OK, title, paragraphs, &form, redirected_to)
}

fn render(
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    way_on: &str,
    extra_form_action: &str,
) -> Response {
    let paragraphs: String = paragraphs
        .iter()
        .map(|text| format!("<p>{}</p>\n", escape(text)))
        .collect();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · KeyStone Dashboard</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body class="auth-page">
<main class="auth-card" data-testid="problem-page">
<h1>{title}</h1>
{paragraphs}{way_on}
</main>
</body>
</html>"#,
        stylesheet = crate::server::assets::names().stylesheet,
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    // The origins come from the issuer and the checked discovery document (`Provider::origin`);
    // should one not make a header value, the page still goes with a policy, the strict one.
    let policy = HeaderValue::from_str(&page_csp(extra_form_action))
        .unwrap_or_else(|_| HeaderValue::from_str(&page_csp("")).expect("an ASCII policy"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    // The callback URL carries a code and state, a refusal what the member typed: never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// HTML-escapes text taken from a query string (the provider's `error_description`) or an error.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_cannot_inject_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }
}
