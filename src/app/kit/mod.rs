//! The shared UI kit. Every page is built from these pieces, so each behaviour is written once:
//!
//! - [`Announcer`] and [`Toasts`]: the one live region that says how the last change went.
//! - [`Loaded`]: "load, show the failure in place (with a way back in or a retry), else render".
//!   [`SectionFailed`] is its counterpart for one section of a page that stands without it;
//!   [`ReadingBar`] shows while any list is being read again behind what it shows;
//!   [`ShellRefresh`] has the top bar read again after a page saved what it shows.
//! - [`InlineDialog`] with [`InlineDialogs`], [`DialogDraft`] and [`RowInput`]: a row's dialog
//!   whose open state and typed input survive the list reloading under it; [`DraftDialog`] one
//!   whose form edits the row's draft, with a [`RowField`] for each of its text inputs.
//! - [`Confirm`]: a change's consequences in words and a required "I understand";
//!   [`ActiveSwitch`]: turning a row off, so confirmed, and on again in one click.
//! - [`PageHeader`]: the page's title (the document's too) and its one-line summary.
//! - [`TextField`]: a labelled text input bound to the page's draft of it; [`CheckedField`] one
//!   checked as it is typed, its hint turning into the problem.
//! - [`CopyButton`]: copies a value, saying whether it worked; [`CopyField`]: the value in a
//!   read-only field beside it.
//! - [`SubmitButton`]: disabled while its action runs, with a "…ing" label; [`FormErrors`]: the
//!   fields its server function refused, listed under the form.
//! - [`focus_row`], [`focus_main`], [`focus_main_from`]: where the focus goes when the control
//!   holding it takes itself away; [`focus_field`]: to a field a change put something back in.
//! - [`on_page_change`]: for what belongs to the page it was shown on (an announcement, a menu).
//! - [`Pager`] over a [`PageWindow`]: "11–20 of 42" and the links either side.
//! - [`DataTable`] (and [`TableScroll`] for tables of another shape): headings, an actions
//!   column for those who may change rows; a wide table scrolls inside its panel, never the page.
//! - [`count_of`], [`initials`]: words and letters every page spells the same way.

mod announce;
mod confirm;
mod controls;
mod dialog;
mod focus;
mod loading;
mod pager;
mod switch;
mod text;

pub use announce::{Announcement, Announcer, Toasts};
pub use confirm::Confirm;
pub use controls::{
    on_page_change, use_hydrated, CheckedField, CopyButton, CopyField, DataTable, FormErrors,
    HiddenLabel, PageHeader, ReadOnlyNotice, SubmitButton, TableScroll, TextField,
};
pub use dialog::{DialogDraft, DraftDialog, InlineDialog, InlineDialogs, RowField, RowInput};
pub use focus::{
    focus_field, focus_is_in_dialog, focus_is_lost, focus_is_within, focus_main, focus_main_from,
    focus_row,
};
pub use loading::{
    LoadFailed, Loaded, ReadingBar, Reads, SectionFailed, ShellRefresh, SignInAgain,
};
pub use pager::{use_offset_query, PageWindow, Pager};
pub use switch::ActiveSwitch;
pub use text::{count_of, initials};
