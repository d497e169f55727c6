//! The one error type server functions return: what went wrong, in words the UI can show.
//!
//! Built on the server from upstream replies and BFF checks; it never carries internals (no upstream
//! bodies beyond the API's own `detail`, no stack traces, no tokens).

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// No session, or it ended (idle, absolute lifetime, refresh refused): sign in again.
    #[error("Your session has ended. Sign in again to continue.")]
    SignedOut,
    /// The API refused: the member lacks the permission (the API's `detail` says which).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A resend revoked the old invitation, and the API refused the new one: nothing is pending
    /// for `email` any more. `role_ids` are the roles it had, for inviting again (the Members
    /// page puts both back in its invite form); `message` says what happened.
    #[error("{message}")]
    NotResent {
        message: String,
        email: String,
        role_ids: Vec<String>,
    },
    /// One message per field, as the API's 422 reply lists them.
    #[error("{}", summarize(.0))]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    /// The API refused a read the dashboard made (a 422 with no form to show it beside): its
    /// `detail`, in one sentence. Usually the API and the dashboard disagree about the contract.
    #[error("The KeyStone API refused the request: {0}. Nothing was changed.")]
    Refused(String),
    /// The API answered, but not in the shape the dashboard understands (a field missing, or of
    /// another type). The server log names the route and the field.
    #[error("{}", unexpected_reply_message(*.may_have_applied))]
    UnexpectedReply { may_have_applied: bool },
    /// The change has consequences the member must confirm first (lockout, production, everyone):
    /// `message` names them. `code` is what a confirming form sends for exactly these (see
    /// `api::confirmation_code`); it is no secret. A client that shows `message` to a person who
    /// agrees may send it back; the dashboard's own pages work the warnings out afresh and show
    /// them instead.
    #[error("{message}")]
    NeedsConfirmation { message: String, code: String },
    #[error("Too many requests. Try again in {retry_after_seconds} seconds.")]
    RateLimited { retry_after_seconds: u64 },
    /// The API could not be reached or failed. `may_have_applied` is true when a change was sent and
    /// no answer came back: the UI must then say "check before retrying", never "nothing was saved".
    #[error("{}", unavailable_message(*.may_have_applied))]
    Unavailable { may_have_applied: bool },
    /// The session's access token expired and the identity provider could not renew it. Nothing
    /// was sent to the API; the session stays, and the next request tries again.
    #[error("The sign-in service is not reachable, so your session could not be renewed. Nothing was changed; try again in a moment.")]
    ProviderUnavailable,
    /// The browser could not reach the dashboard's server, or its reply did not arrive whole.
    /// Made in the browser only. Whether a change got through is unknown: never "nothing was
    /// changed".
    #[error("The dashboard's server did not answer. If you were saving a change, it may or may not have been saved: reload to check before trying again.")]
    Unreachable,
    #[error(
        "Something went wrong on our side. Try again; if it keeps happening, contact support."
    )]
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, e.g. `cidr` (the API's `loc` without its `body` prefix).
    pub field: String,
    pub message: String,
}

fn summarize(errors: &[FieldError]) -> String {
    match errors {
        [only] => only.message.clone(),
        _ => "Some fields need attention.".to_owned(),
    }
}

fn unavailable_message(may_have_applied: bool) -> &'static str {
    if may_have_applied {
        "The KeyStone API did not confirm the change. It may or may not have been saved: reload to check before trying again."
    } else {
        "The KeyStone API is not reachable right now. Nothing was changed; try again in a moment."
    }
}

fn unexpected_reply_message(may_have_applied: bool) -> &'static str {
    if may_have_applied {
        "The KeyStone API answered in a shape the dashboard does not understand. The change was sent and may have been saved: reload to check before trying again."
    } else {
        "The KeyStone API answered in a shape the dashboard does not understand, so this cannot be shown. Nothing was changed; the server log names the field."
    }
}

impl ApiError {
    /// The message's first sentence, without its stop: the reason alone, for a sentence that says
    /// what it meant (its "Nothing was changed", say, is about the call that failed, not about
    /// what came before it).
    pub fn first_sentence(&self) -> String {
        let message = self.to_string();
        message
            .split(". ")
            .next()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned()
    }

    /// Whether a change was sent and its outcome is unknown (no answer, or one the dashboard
    /// could not read): the UI must say "may have been saved", never "not saved".
    pub fn may_have_applied(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                may_have_applied: true
            } | Self::UnexpectedReply {
                may_have_applied: true
            } | Self::Unreachable
        )
    }

    /// The HTTP status the server function answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::SignedOut => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) | Self::NotResent { .. } => 409,
            Self::Validation(_) => 422,
            Self::BadRequest(_) => 400,
            Self::Refused(_) | Self::UnexpectedReply { .. } => 502,
            Self::NeedsConfirmation { .. } => 428,
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } | Self::ProviderUnavailable | Self::Unreachable => 503,
            Self::Internal => 500,
        }
    }
}

impl From<crate::domain::ResourceIdError> for ApiError {
    fn from(_: crate::domain::ResourceIdError) -> Self {
        #[cfg(feature = "ssr")]
        tracing::warn!("refused an id that is neither a UUID nor an Auth0 id");
        Self::BadRequest(
            "That id is not a KeyStone id (a UUID or an Auth0 id such as auth0|…), so nothing was \
             sent or changed."
                .to_owned(),
        )
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The browser could not reach the BFF, or the BFF's reply did not arrive whole.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => Self::Unreachable,
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                Self::BadRequest(message)
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply the browser never got whole says nothing about what the server did: a change may
    /// have been made, and the member is told to check, never "nothing was changed".
    #[test]
    fn a_lost_reply_never_says_nothing_was_changed() {
        for lost in [
            ServerFnErrorErr::Request("connection reset".into()),
            ServerFnErrorErr::Response("body cut short".into()),
        ] {
            let error = ApiError::from_server_fn_error(lost);
            assert_eq!(error, ApiError::Unreachable);
            assert!(error.to_string().contains("may or may not"), "{error}");
            assert!(
                !error.to_string().contains("Nothing was changed"),
                "{error}"
            );
        }
    }

    #[test]
    fn messages_are_readable() {
        let one = ApiError::Validation(vec![FieldError {
            field: "cidr".into(),
            message: "host bits set: use 10.0.0.0/8".into(),
        }]);
        assert_eq!(one.to_string(), "host bits set: use 10.0.0.0/8");
        assert!(ApiError::Unavailable {
            may_have_applied: true
        }
        .to_string()
        .contains("may or may not"));
        assert_eq!(
            ApiError::RateLimited {
                retry_after_seconds: 7
            }
            .to_string(),
            "Too many requests. Try again in 7 seconds."
        );
    }
}
