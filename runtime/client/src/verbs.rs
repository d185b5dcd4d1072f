//! The verbs a kind's client has, as marker traits implemented by the kind's generated verb
//! set (client-gen writes one `impl` per verb the `+genclient` tags allow). A method of
//! [`crate::Client`] requires its verb, so calling a verb a kind does not have (`create` on a
//! `+genclient:readonly` kind) does not compile, and says why.

#[diagnostic::on_unimplemented(
    message = "this kind's client has no `create`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `create`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `create`.
pub trait Create {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `update`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `update`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `update`.
pub trait Update {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `update_status`: the kind has no status, or `+genclient:noStatus`/`readonly`/`onlyVerbs=`/`skipVerbs=` leave it out",
    label = "`{Self}` does not include `update_status`",
    note = "a kind's verbs come from `+genclient:readonly`, `:noStatus`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `update_status` (the `status` subresource).
pub trait UpdateStatus {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `delete`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `delete`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `delete`.
pub trait Delete {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `delete_collection`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `delete_collection`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `delete_collection`.
pub trait DeleteCollection {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `get`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `get`",
    note = "a kind's verbs come from `+genclient:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `get`.
pub trait Get {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `list`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `list`",
    note = "a kind's verbs come from `+genclient:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `list`.
pub trait List {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `watch`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `watch`",
    note = "a kind's verbs come from `+genclient:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `watch`.
pub trait Watch {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `patch`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `patch`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `patch` (and `patch_status` together with [`UpdateStatus`]).
pub trait Patch {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `apply`: its `+genclient` tags leave it out",
    label = "`{Self}` does not include `apply`",
    note = "a kind's verbs come from `+genclient:readonly`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `apply` (server-side apply).
pub trait Apply {}
#[diagnostic::on_unimplemented(
    message = "this kind's client has no `apply_status`: the kind has no status, or `+genclient:noStatus`/`readonly`/`onlyVerbs=`/`skipVerbs=` leave it out",
    label = "`{Self}` does not include `apply_status`",
    note = "a kind's verbs come from `+genclient:readonly`, `:noStatus`, `:onlyVerbs=`, `:skipVerbs=` and `:noVerbs`"
)]
/// `apply_status` (server-side apply of the `status` subresource).
pub trait ApplyStatus {}
