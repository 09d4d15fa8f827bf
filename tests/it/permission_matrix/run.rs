//! Sends every route of the table as every actor on one app and checks the answer against the table:
//! refused and foreign attempts first (each route's with a digest of every table before and after), then the
//! allowed ones, with the routes that remove rows, sessions or memberships last.

use std::time::Instant;

use reqwest::redirect::Policy;

use super::actors::{self, ALL, Actor, Sender, is_api};
use super::bodies;
use super::fixture::{self, Fixture};
use super::table::{Bot, Gate, ROUTES, Route};
use crate::harness::{Browser, PASSWORD};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past the gate: the handler ran (it may still refuse the empty body or find nothing to do).
    Pass,
    /// Not signed in: pages send to the sign-in page, the API answers 401.
    SignIn,
    /// Signed in, not allowed: 403.
    Forbidden,
    /// Another workspace's id: 404, as if the row did not exist.
    NotFound,
    /// Not applicable (another workspace's owner on a route that names no row).
    Skip,
}

fn rank(a: Actor) -> Gate {
    match a {
        Actor::Viewer => Gate::Viewer,
        Actor::Editor => Gate::Editor,
        Actor::Admin => Gate::Admin,
        _ => Gate::Owner,
    }
}

fn expect(r: &Route, a: Actor) -> Expect {
    if a == Actor::Operator {
        return if r.gate == Gate::SystemAdmin { Expect::Pass } else { Expect::Skip };
    }
    if r.gate == Gate::Public {
        return if a == Actor::Foreign { Expect::Skip } else { Expect::Pass };
    }
    match a {
        Actor::Anonymous => Expect::SignIn,
        Actor::Bot if r.bot == Bot::Allowed => Expect::Pass,
        Actor::Bot => Expect::Forbidden,
        Actor::Foreign if r.id_bearing() => Expect::NotFound,
        Actor::Foreign => Expect::Skip,
        _ if r.gate == Gate::SystemAdmin => Expect::Forbidden,
        role if r.gate == Gate::SignedIn || rank(role) >= r.gate => Expect::Pass,
        _ => Expect::Forbidden,
    }
}

/// 0: leaves the workspace as it was for the next route; 1: removes the row it names; 2: ends the actor's
/// session or membership (sent by throwaway sessions and members, at the very end).
fn stage(r: &Route) -> (u8, usize) {
    const ENDS: [&str; 4] = ["/logout", "/account/sessions/revoke-all", "/tenants/leave", "/api/workspace/leave"];
    const REMOVES: [&str; 6] = ["/delete", "/remove", "/revoke", "/discard", "/merge", "/cancel"];
    if let Some(i) = ENDS.iter().position(|p| *p == r.path) {
        (2, i)
    } else if r.method == "DELETE" || REMOVES.iter().any(|s| r.path.ends_with(s)) {
        (1, 0)
    } else {
        (0, 0)
    }
}

/// What "past the gate" may answer: success, a redirect, or the handler's own answer to the empty body.
const PASSED: [u16; 10] = [200, 201, 202, 204, 302, 303, 400, 404, 409, 422];

/// Routes that answer 503 in this app because what they need (mail, Stripe) is not set up here.
const NOT_SET_UP: [&str; 3] = ["/account/verify/resend", "/billing/packs", "/api/billing/packs"];

fn judge(r: &Route, is_page: bool, e: Expect, status: u16, location: &str) -> Option<String> {
    let ok = match e {
        // Public routes answer as they like (a failed sign-in is a 401), but never refuse a role.
        Expect::Pass if r.gate == Gate::Public => status != 403 && status != 500,
        // A page or list the role may read is shown to it.
        Expect::Pass if r.method == "GET" => status == 200,
        // The sign-in redirect always carries `next`; signing out lands on a bare /login.
        Expect::Pass => {
            (PASSED.contains(&status) || (status == 503 && NOT_SET_UP.contains(&r.path))) && !location.starts_with("/login?next=")
        }
        Expect::SignIn if is_page => (status == 303 || status == 302) && location.starts_with("/login"),
        Expect::SignIn => status == 401,
        Expect::Forbidden => status == 403,
        Expect::NotFound => status == 404,
        Expect::Skip => true,
    };
    (!ok).then(|| format!("{e:?} but {status} {location}"))
}

struct World {
    f: Fixture,
    anon: Browser,
    bot: reqwest::Client,
}

impl World {
    fn sender(&self, a: Actor) -> Sender<'_> {
        match a {
            Actor::Anonymous => Sender::Browser(&self.anon),
            Actor::Viewer => Sender::Browser(&self.f.a.viewer),
            Actor::Editor => Sender::Browser(&self.f.a.editor),
            Actor::Admin => Sender::Browser(&self.f.a.admin),
            Actor::Owner => Sender::Browser(&self.f.a.owner),
            Actor::Foreign => Sender::Browser(&self.f.b_owner),
            Actor::Operator => Sender::Browser(&self.f.operator),
            Actor::Bot => Sender::Bearer { base: &self.f.app.base, token: &self.f.a_token, client: &self.bot },
        }
    }
}

fn email(a: Actor) -> &'static str {
    match a {
        Actor::Viewer => "viewer-mxa@example.com",
        Actor::Editor => "editor-mxa@example.com",
        Actor::Admin => "admin-mxa@example.com",
        _ => "owner-mxa@example.com",
    }
}

fn role(a: Actor) -> &'static str {
    match a {
        Actor::Viewer => "viewer",
        Actor::Editor => "editor",
        Actor::Admin => "admin",
        _ => "owner",
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_every_actor_as_the_table_says() {
    let f = fixture::build().await;
    let started = Instant::now();
    let anon = f.app.browser();
    anon.csrf().await;
    let bot = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let w = World { f, anon, bot };
    let mut conn = w.f.app.db().await;
    let tables = fixture::all_tables(&mut conn).await;
    let mut failures: Vec<String> = vec![];
    let mut requests = 0usize;

    // Refused and foreign attempts change nothing, anywhere in the database (nothing else runs meanwhile: no
    // workers, so one route's "after" is the next one's "before").
    let mut before = fixture::checksums(&mut conn, &tables).await;
    for r in ROUTES {
        let refused: Vec<Actor> = ALL.into_iter().filter(|a| !matches!(expect(r, *a), Expect::Pass | Expect::Skip)).collect();
        if refused.is_empty() {
            continue;
        }
        let path = w.f.ids.path(r.path);
        let body = bodies::attempt(r.method, r.path, &w.f.ids);
        for a in refused {
            let (status, location) = actors::send(&w.sender(a), r.method, &path, body.as_ref()).await;
            requests += 1;
            if let Some(why) = judge(r, !is_api(&path), expect(r, a), status, &location) {
                failures.push(format!("{a:?} {} {path}: {why}", r.method));
            }
        }
        let after = fixture::checksums(&mut conn, &tables).await;
        let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.as_str()).collect();
        if !changed.is_empty() {
            failures.push(format!("refused {} {path} changed {changed:?}", r.method));
        }
        before = after;
    }

    // Allowed attempts get past the gate; rows, sessions and memberships are removed last.
    let mut ordered: Vec<&Route> = ROUTES.iter().collect();
    ordered.sort_by_key(|r| stage(r));
    for r in ordered {
        let path = w.f.ids.path(r.path);
        for a in ALL.into_iter().filter(|a| expect(r, *a) == Expect::Pass) {
            let throwaway;
            let sender = if stage(r).0 == 2 && a != Actor::Bot && a != Actor::Anonymous {
                throwaway = stand_in(&w, r, a).await;
                Sender::Browser(&throwaway)
            } else {
                w.sender(a)
            };
            let (status, location) = actors::send(&sender, r.method, &path, None).await;
            requests += 1;
            if let Some(why) = judge(r, !is_api(&path), Expect::Pass, status, &location) {
                failures.push(format!("{a:?} {} {path}: {why}", r.method));
            }
        }
    }

    eprintln!("permission matrix: {} routes, {requests} requests in {:.1?}", ROUTES.len(), started.elapsed());
    assert!(failures.is_empty(), "{} answers differ from the table:\n{}", failures.len(), failures.join("\n"));
}

/// Who sends a route that ends a session or membership: a new session of the same user (signing out), or a new
/// member with the actor's role (signing out everywhere, leaving), so the actors keep their sessions.
async fn stand_in(w: &World, r: &Route, a: Actor) -> Browser {
    let b = w.f.app.browser();
    if r.path == "/logout" {
        let res = b.post_form("/login", &[("email", email(a)), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 303, "sign-in of {}", email(a));
        return b;
    }
    let n = STAND_INS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    w.f.app.join(&w.f.a.owner, &format!("stand-in-{n}-{}@example.com", role(a)), role(a)).await
}

static STAND_INS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
