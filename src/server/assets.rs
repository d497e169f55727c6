//! The site's files under `/pkg/`: what they are called and how long browsers keep them.
//!
//! A release build (`cargo leptos build`, `hash-files = true`) names the bundle's files after their
//! content (`keystone-dashboard.<md5, base64url>.wasm`) and lists the hashes in `hash.txt` beside the
//! server binary. A hashed name never changes meaning, so browsers keep those files a year without
//! asking again; a name without a hash (a debug build) is revalidated on every use.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// The file cargo-leptos writes beside the binary (leptos reads the same one for the stylesheet).
const HASH_FILE: &str = "hash.txt";

/// What the bundle's files are called before their hashes (cargo-leptos's `output-name`).
pub const OUTPUT_NAME: &str = match option_env!("LEPTOS_OUTPUT_NAME") {
    Some(name) => name,
    None => env!("CARGO_PKG_NAME"),
};

/// Whether cargo-leptos named the output when this binary was built; if not, the unhashed WASM
/// carries wasm-bindgen's `_bg` suffix, as Leptos names it.
const OUTPUT_NAMED: bool = option_env!("LEPTOS_OUTPUT_NAME").is_some();

/// Where under the site root the bundle's files are, and the path they are served at.
pub const PKG_DIR: &str = "pkg";

#[derive(Clone, Debug, PartialEq)]
pub struct AssetNames {
    /// The build hashed its files (and the page must name them with their hashes).
    pub hashed: bool,
    /// The stylesheet's path, for pages rendered outside the app (the sign-in problem pages).
    pub stylesheet: String,
    /// The WASM bundle's JavaScript glue (an ES module exporting `default` and `hydrate`).
    pub script: String,
    /// The WASM bundle's main module.
    pub wasm: String,
    /// The split manifest (`cargo leptos build --split`: each section's chunks by name), when the
    /// build hashed its files and split them. The page's loader warms the cache with the chunks
    /// it lists (`app::hydration`); a build without it simply fetches a section on the first click.
    pub split_manifest: Option<String>,
    /// `hash.txt` names a split loader (`split: ..`), so the build was split and should name its
    /// manifest too.
    pub split: bool,
}

impl AssetNames {
    /// From `hash.txt` (lines `css: <hash>`, `js: ..`, `wasm: ..`, and `manifest: ..` for a split
    /// build), as cargo-leptos writes it.
    /// A hash that is not one (empty, or with characters a hash never has) is not used: the names
    /// are written into the page's inline loader script.
    pub fn from_hash_file(contents: Option<&str>) -> Self {
        let hash_of = |kind: &str| {
            contents.and_then(|contents| {
                contents.lines().find_map(|line| {
                    let (file, hash) = line.split_once(':')?;
                    let hash = hash.trim();
                    (file.trim() == kind && is_hash(hash)).then(|| hash.to_owned())
                })
            })
        };
        let path = |kind: &str, unhashed: &str| match hash_of(kind) {
            Some(hash) => format!("/{PKG_DIR}/{OUTPUT_NAME}.{hash}.{kind}"),
            None => format!("/{PKG_DIR}/{unhashed}.{kind}"),
        };
        let wasm_unhashed = if OUTPUT_NAMED {
            OUTPUT_NAME.to_owned()
        } else {
            format!("{OUTPUT_NAME}_bg")
        };
        Self {
            hashed: contents.is_some(),
            stylesheet: path("css", OUTPUT_NAME),
            script: path("js", OUTPUT_NAME),
            wasm: path("wasm", &wasm_unhashed),
            split_manifest: hash_of("manifest")
                .map(|hash| format!("/{PKG_DIR}/__wasm_split_manifest.{hash}.json")),
            split: hash_of("split").is_some(),
        }
    }

    /// The named files missing under `site_root`. A page naming a file that is not there still
    /// reads (every page is rendered in full on the server) but never hydrates, or, for the split
    /// manifest, hydrates without fetching the other sections ahead; nobody would notice but in
    /// the browser's console.
    pub fn missing_under(&self, site_root: &std::path::Path) -> Vec<String> {
        [&self.stylesheet, &self.script, &self.wasm]
            .into_iter()
            .chain(&self.split_manifest)
            .filter(|path| !site_root.join(path.trim_start_matches('/')).is_file())
            .cloned()
            .collect()
    }
}

/// The WASM chunks that each section of pages needs, from the split manifest, so that a page can
/// have its own section's chunks fetched beside the main module (`app::hydration`) instead of
/// once the main module has started and reached the route. Empty for a build that was not split.
#[derive(Clone, Debug, Default)]
pub struct SectionChunks(Arc<HashMap<String, String>>);

impl SectionChunks {
    /// The manifest's sections (`{"team_section_<hash>": ["chunk_7.<hash>", ..], ..}`), keyed by
    /// the split function's name (`team_section`) with their chunks' paths. The paths go into the
    /// page and from there into requests: a section that names anything but a plain file name is
    /// left out, and so is a function name two splits share; the page then fetches that section
    /// as before, when hydration reaches it. Each is logged: a manifest this cannot read (a
    /// cargo-leptos that names splits otherwise) would otherwise turn the preloads off unseen.
    pub fn from_manifest(manifest: &str) -> Self {
        let sections: HashMap<String, Vec<String>> = match serde_json::from_str(manifest) {
            Ok(sections) => sections,
            Err(error) => {
                tracing::warn!(%error, "the split manifest does not read: no page preloads its section's chunks");
                HashMap::new()
            }
        };
        let mut by_function: HashMap<String, String> = HashMap::new();
        let mut shared = Vec::new();
        for (split, chunks) in sections {
            // `#[lazy]` names a split `<function>_<hash of its call site>`, the hash in decimal.
            let function = split
                .rsplit_once('_')
                .filter(|(_, hash)| {
                    !hash.is_empty() && hash.bytes().all(|byte| byte.is_ascii_digit())
                })
                .map(|(function, _)| function.to_owned());
            let paths = chunks
                .iter()
                .map(|chunk| is_plain_file_name(chunk).then(|| format!("/{PKG_DIR}/{chunk}.wasm")))
                .collect::<Option<Vec<_>>>()
                .filter(|paths| !paths.is_empty());
            let (Some(function), Some(paths)) = (function, paths) else {
                tracing::warn!(%split, "the split manifest's section is not one this server reads: its pages fetch it once the main module reaches them");
                continue;
            };
            if by_function
                .insert(function.clone(), paths.join(" "))
                .is_some()
            {
                shared.push(function);
            }
        }
        for function in shared {
            // Which of two splits a page's route renders is not known here.
            by_function.remove(&function);
            tracing::warn!(%function, "two splits of the manifest share a function name: its pages fetch it once the main module reaches them");
        }
        Self(Arc::new(by_function))
    }

    /// The build's manifest under `site_root`, as `names` calls it (none for a build that was not
    /// split, or one whose manifest cannot be read: `missing_under` already reports that).
    pub fn read(site_root: &std::path::Path, names: &AssetNames) -> Self {
        names
            .split_manifest
            .as_ref()
            .and_then(|path| {
                std::fs::read_to_string(site_root.join(path.trim_start_matches('/'))).ok()
            })
            .map(|manifest| Self::from_manifest(&manifest))
            .unwrap_or_default()
    }

    /// The paths of a section's chunks, space-separated, by the split function's name.
    pub fn of(&self, function: &str) -> Option<&str> {
        self.0.get(function).map(String::as_str)
    }
}

/// This process's names, read once.
pub fn names() -> &'static AssetNames {
    static NAMES: OnceLock<AssetNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|folder| folder.join(HASH_FILE)));
        let contents = hash_file.and_then(|path| std::fs::read_to_string(path).ok());
        AssetNames::from_hash_file(contents.as_deref())
    })
}

/// Whether a `/pkg/` file name carries a content hash: `<name>.<hash>.<ext>`.
fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    // `x.wasm.br` is fetched as `x.wasm`; only the names the pages ask for matter here.
    hash.is_some_and(is_hash) && parts.next().is_some()
}

/// A file name that stays one inside `/pkg/` and inside an HTML attribute: letters, digits, `_`,
/// `-` and `.`, not starting with a dot. (`is_hashed` checks only the hash before the extension:
/// it takes `../x.<hash>.wasm`.)
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_-.".contains(&byte))
}

/// cargo-leptos's content hash: 22 base64url characters (an MD5).
fn is_hash(hash: &str) -> bool {
    hash.len() == 22
        && hash
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// `Cache-Control` for `/pkg/`: a year and `immutable` for hashed names (a new build has new names),
/// `no-cache` (use, but ask first) for the rest.
pub async fn cache_by_name(request: Request, next: Next) -> Response {
    let file_name = request
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .map(|name| name.to_owned());
    let mut response = next.run(request).await;
    let Some(file_name) = file_name else {
        return response;
    };
    if response.status().is_success() {
        let policy = if is_hashed(&file_name) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("keystone-dashboard.Vt2t1ZzUe0FzXc5HvS1wqA.wasm"));
        assert!(is_hashed("keystone-dashboard.Vt2t1ZzUe0FzXc5H-S1_qA.js"));
        assert!(!is_hashed("keystone-dashboard.wasm"));
        assert!(!is_hashed("keystone-dashboard.css"));
        assert!(!is_hashed("Vt2t1ZzUe0FzXc5HvS1wqA.js"));
        assert!(!is_hashed("keystone-dashboard.Vt2t1ZzUe0FzXc5HvS1w!A.js"));
    }

    #[test]
    fn the_bundle_files_are_named_with_their_hashes_when_the_build_hashed() {
        let hashed = AssetNames::from_hash_file(Some(
            "js: Js2t1ZzUe0FzXc5HvS1wqA\nwasm: Wa2t1ZzUe0FzXc5H-S1_qA\ncss: Vt2t1ZzUe0FzXc5HvS1wqA\n",
        ));
        assert!(hashed.hashed);
        assert_eq!(
            hashed.stylesheet,
            "/pkg/keystone-dashboard.Vt2t1ZzUe0FzXc5HvS1wqA.css"
        );
        assert_eq!(
            hashed.script,
            "/pkg/keystone-dashboard.Js2t1ZzUe0FzXc5HvS1wqA.js"
        );
        assert_eq!(
            hashed.wasm,
            "/pkg/keystone-dashboard.Wa2t1ZzUe0FzXc5H-S1_qA.wasm"
        );
        assert_eq!(hashed.split_manifest, None);
        let split = AssetNames::from_hash_file(Some(
            "js: Js2t1ZzUe0FzXc5HvS1wqA\nmanifest: Ma2t1ZzUe0FzXc5HvS1wqA\nsplit: Sp2t1ZzUe0FzXc5HvS1wqA\n",
        ));
        assert_eq!(
            split.split_manifest.as_deref(),
            Some("/pkg/__wasm_split_manifest.Ma2t1ZzUe0FzXc5HvS1wqA.json")
        );
        assert!(split.split && !hashed.split);
        let plain = AssetNames::from_hash_file(None);
        assert!(!plain.hashed);
        assert_eq!(plain.split_manifest, None);
        assert_eq!(plain.stylesheet, "/pkg/keystone-dashboard.css");
        assert_eq!(plain.script, "/pkg/keystone-dashboard.js");
        assert!(plain.wasm.starts_with("/pkg/keystone-dashboard") && plain.wasm.ends_with(".wasm"));
    }

    #[test]
    fn a_hash_that_is_not_one_is_not_written_into_the_page() {
        let names = AssetNames::from_hash_file(Some(
            "js: \nwasm: \";alert(1)//Vt2t1ZzUe0FzX\ncss: Vt2t1ZzUe0FzXc5HvS1wqA\nmanifest: </script>\n",
        ));
        assert_eq!(names.script, "/pkg/keystone-dashboard.js");
        assert!(!names.wasm.contains("alert"), "{}", names.wasm);
        assert_eq!(names.split_manifest, None);
        assert_eq!(
            names.stylesheet,
            "/pkg/keystone-dashboard.Vt2t1ZzUe0FzXc5HvS1wqA.css"
        );
    }

    #[test]
    fn a_sections_chunks_are_named_by_its_split_function() {
        let chunks = SectionChunks::from_manifest(
            r#"{"team_section_3307435055768256098": ["chunk_7.8MAXb8PnTsTiDmn6dBylgQ", "split_team_section_3307435055768256098.Qi-J0G1K6qV_SGVjmj2xEw"],
                "overview_section_3307435055768256098": ["chunk_5.xQ_PjZun7dQ6QLclnDeXfw"]}"#,
        );
        assert_eq!(
            chunks.of("team_section"),
            Some("/pkg/chunk_7.8MAXb8PnTsTiDmn6dBylgQ.wasm /pkg/split_team_section_3307435055768256098.Qi-J0G1K6qV_SGVjmj2xEw.wasm")
        );
        assert_eq!(
            chunks.of("overview_section"),
            Some("/pkg/chunk_5.xQ_PjZun7dQ6QLclnDeXfw.wasm")
        );
        assert_eq!(chunks.of("team"), None);
        assert_eq!(chunks.of("team_section_3307435055768256098"), None);
    }

    #[test]
    fn a_section_naming_anything_but_a_file_or_sharing_its_name_is_left_out() {
        let chunks = SectionChunks::from_manifest(
            r#"{"team_section_1": ["chunk_7.abc", "../../etc/passwd"],
                "settings_section_2": ["chunk_8.abc\" onload=\"alert(1)"],
                "security_section_3": [".hidden"],
                "roles_section_x": ["chunk_9.abc"],
                "empty_section_4": [],
                "overview_section_5": ["chunk_5.abc"]}"#,
        );
        for function in [
            "team_section",
            "settings_section",
            "security_section",
            "roles_section",
            "empty_section",
        ] {
            assert_eq!(chunks.of(function), None, "{function}");
        }
        assert_eq!(chunks.of("overview_section"), Some("/pkg/chunk_5.abc.wasm"));
        assert_eq!(
            SectionChunks::from_manifest("not json").of("overview_section"),
            None
        );
        let shared = SectionChunks::from_manifest(
            r#"{"team_section_1": ["chunk_1.abc"], "team_section_2": ["chunk_2.abc"], "overview_section_3": ["chunk_3.abc"]}"#,
        );
        assert_eq!(shared.of("team_section"), None);
        assert_eq!(shared.of("overview_section"), Some("/pkg/chunk_3.abc.wasm"));
    }

    #[test]
    fn the_named_files_missing_from_the_site_are_listed() {
        let site = std::env::temp_dir().join(format!("keystone-assets-{}", std::process::id()));
        let names = AssetNames::from_hash_file(Some(
            "js: Js2t1ZzUe0FzXc5HvS1wqA\nwasm: Wa2t1ZzUe0FzXc5H-S1_qA\ncss: Vt2t1ZzUe0FzXc5HvS1wqA\nmanifest: Ma2t1ZzUe0FzXc5HvS1wqA\n",
        ));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        std::fs::write(site.join(names.script.trim_start_matches('/')), "").unwrap();
        let missing = names.missing_under(&site);
        std::fs::remove_dir_all(&site).unwrap();
        let manifest = names.split_manifest.clone().unwrap();
        assert_eq!(
            missing,
            vec![names.stylesheet.clone(), names.wasm.clone(), manifest]
        );
    }
}
