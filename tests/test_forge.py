"""``gitreg.forge``: which forge a remote is on, where its repository is, and the REST clients for GitHub and
GitLab, against a local HTTP server that answers as they do (testing/forge_server.py): the requests sent,
pagination through ``Link`` headers, and the forges' error bodies turned into one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitreg.errors import ForgeError, UsageError
from gitreg.forge import GitHub, GitLab, PullRequest, RemoteRepo, client, detect
from testing.forge_server import ForgeServer, serve

HEAD = "gitreg/promote/fraud-2-staging"
REVOKED = "ghp_revoked"  # a token the forge does not accept


@pytest.fixture(autouse=True)
def no_forge_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITLAB_TOKEN", "CI_API_V4_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CI_PROJECT_PATH", raising=False)


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with serve(ForgeServer()) as running:
        yield running


def github(server: ForgeServer, token: str | None = None, path: str = "owner/reg") -> GitHub:
    return GitHub(server.url, server.token if token is None else token, RemoteRepo("github.com", path))


def gitlab(server: ForgeServer, token: str | None = None, path: str = "group/reg") -> GitLab:
    repo = RemoteRepo("gitlab.example.com", path)
    return GitLab(f"{server.url}/api/v4", server.token if token is None else token, repo)


# --- where a remote is ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/owner/reg.git", RemoteRepo("github.com", "owner/reg")),
        ("https://github.com/owner/reg", RemoteRepo("github.com", "owner/reg")),
        ("https://github.com/owner/reg/", RemoteRepo("github.com", "owner/reg")),
        ("https://x-access-token:ghs_abc@github.com/owner/reg.git", RemoteRepo("github.com", "owner/reg")),
        ("git@github.com:owner/reg.git", RemoteRepo("github.com", "owner/reg")),
        ("github.com:owner/reg", RemoteRepo("github.com", "owner/reg")),
        ("ssh://git@github.com/owner/reg.git", RemoteRepo("github.com", "owner/reg")),
        ("https://gitlab.com/group/sub/reg.git", RemoteRepo("gitlab.com", "group/sub/reg")),
        ("git@gitlab.example.com:group/sub/deeper/reg.git",
         RemoteRepo("gitlab.example.com", "group/sub/deeper/reg")),
        ("ssh://git@gitlab.example.com:2222/group/reg.git", RemoteRepo("gitlab.example.com", "group/reg")),
        ("https://gitlab.example.com:8443/group/reg.git", RemoteRepo("gitlab.example.com", "group/reg")),
        ("file:///srv/git/forge/owner/reg.git", RemoteRepo("", "owner/reg")),
        ("/srv/git/forge/owner/reg.git", RemoteRepo("", "owner/reg")),
    ],
)  # fmt: skip
def test_remote_repo_parse(url: str, expected: RemoteRepo) -> None:
    assert RemoteRepo.parse(url) == expected


@pytest.mark.parametrize("url", ["https://github.com/", "https://github.com/reg.git", "file:///reg.git", ""])
def test_remote_repo_parse_without_a_path(url: str) -> None:
    assert RemoteRepo.parse(url) is None


@pytest.mark.parametrize(
    ("url", "forced", "expected"),
    [
        ("https://github.com/owner/reg.git", None, "github"),
        ("git@github.com:owner/reg.git", None, "github"),
        ("https://github.example.com/owner/reg.git", None, "github"),  # GitHub Enterprise Server
        ("https://gitlab.com/group/sub/reg.git", None, "gitlab"),
        ("git@gitlab.example.com:group/reg.git", None, "gitlab"),
        ("https://git.example.com/group/reg.git", None, None),
        ("file:///srv/git/owner/reg.git", None, None),
        (None, None, None),
        ("file:///srv/git/owner/reg.git", "gitlab", "gitlab"),
        ("https://github.com/owner/reg.git", "gitlab", "gitlab"),
    ],
)
def test_detect(url: str | None, forced: str | None, expected: str | None) -> None:
    assert detect(url, forced) == expected


def test_detect_unknown_forge() -> None:
    with pytest.raises(UsageError) as exc:
        detect("https://github.com/owner/reg.git", "bitbucket")
    assert str(exc.value) == "forge='bitbucket': choose github or gitlab"


# --- clients from the environment -------------------------------------------------------------------------


def test_github_client_defaults() -> None:
    made = client("github", "git@github.com:owner/reg.git")
    assert isinstance(made, GitHub)
    assert (made.api, made.token, made.repo) == (
        "https://api.github.com",
        None,
        RemoteRepo("github.com", "owner/reg"),
    )
    assert made.manual_url(HEAD, "main") == f"https://github.com/owner/reg/compare/main...{HEAD}?expand=1"


def test_github_client_from_actions_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://github.example.com/api/v3/")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_token")
    monkeypatch.setenv("GITHUB_REPOSITORY", "ml/registry")
    made = client("github", "https://github.example.com/old-name/reg.git")
    assert (made.api, made.token, made.repo) == (
        "https://github.example.com/api/v3",
        "ghs_token",
        RemoteRepo("github.example.com", "ml/registry"),
    )
    assert made.manual_url(HEAD, "main") == (
        f"https://github.example.com/ml/registry/compare/main...{HEAD}?expand=1"
    )


def test_gitlab_client_defaults() -> None:
    made = client("gitlab", "git@gitlab.example.com:group/sub/reg.git")
    assert isinstance(made, GitLab)
    assert (made.api, made.token, made.repo) == (
        "https://gitlab.example.com/api/v4",
        None,
        RemoteRepo("gitlab.example.com", "group/sub/reg"),
    )
    assert made.manual_url(HEAD, "main") == (
        "https://gitlab.example.com/group/sub/reg/-/merge_requests/new?"
        "merge_request%5Bsource_branch%5D=gitreg%2Fpromote%2Ffraud-2-staging"
        "&merge_request%5Btarget_branch%5D=main"
    )


def test_gitlab_client_from_ci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_API_V4_URL", "https://gitlab.example.com/api/v4")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-token")
    monkeypatch.setenv("CI_PROJECT_PATH", "ml/registry")
    made = client("gitlab", "file:///builds/ml/registry.git")
    assert (made.api, made.token, made.repo.path) == (
        "https://gitlab.example.com/api/v4",
        "glpat-token",
        "ml/registry",
    )


def test_client_for_a_remote_without_a_path() -> None:
    with pytest.raises(UsageError) as exc:
        client("github", "https://github.com/")
    assert str(exc.value) == "cannot tell the repository's path from the remote URL 'https://github.com/'"


# --- GitHub -----------------------------------------------------------------------------------------------


def test_github_open(server: ForgeServer) -> None:
    pull = github(server).open(HEAD, "main", "Promote fraud@2 to staging (from 1)", "| auc | 0.85 | 0.91 |")
    assert pull == PullRequest(1, "https://github.com/owner/reg/pull/1")
    [request] = server.requests
    assert (request.method, request.path, request.query) == ("POST", "/repos/owner/reg/pulls", {})
    assert request.body == {
        "title": "Promote fraud@2 to staging (from 1)",
        "head": HEAD,
        "base": "main",
        "body": "| auc | 0.85 | 0.91 |",
    }
    assert {
        k: request.headers[k] for k in ("authorization", "accept", "x-github-api-version", "content-type")
    } == {
        "authorization": f"Bearer {server.token}",
        "accept": "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "content-type": "application/json",
    }
    assert request.headers["user-agent"] == "gitreg"  # GitHub refuses requests without a User-Agent


def test_github_open_under_an_api_prefix(server: ForgeServer) -> None:
    enterprise = GitHub(f"{server.url}/api/v3/", server.token, RemoteRepo("github.example.com", "owner/reg"))
    assert enterprise.open(HEAD, "main", "t", "b").number == 1
    assert server.requests[0].path == "/api/v3/repos/owner/reg/pulls"


def test_github_existing_pull_request(server: ForgeServer) -> None:
    server.add_pull(HEAD, "release")  # the same branch against another base does not count
    server.add_pull(HEAD, "main", state="closed")
    number = server.add_pull(HEAD, "main")
    assert github(server).open(HEAD, "main", "t", "b") == PullRequest(
        number, f"https://github.com/owner/reg/pull/{number}", existed=True
    )
    post, get = server.requests
    assert post.method == "POST"
    assert (get.method, get.path) == ("GET", "/repos/owner/reg/pulls")
    assert get.query == {"head": f"owner:{HEAD}", "base": "main", "state": "open", "per_page": "100"}
    assert get.headers["authorization"] == f"Bearer {server.token}"


def test_github_existing_pull_request_from_a_fork_is_not_taken(server: ForgeServer) -> None:
    server.add_pull(HEAD, "main", owner="alice")
    server.refuse(422)
    with pytest.raises(ForgeError) as exc:
        github(server).open(HEAD, "main", "t", "b")
    assert (
        str(exc.value)
        == f"GitHub answered 422: Validation Failed; A pull request already exists for owner:{HEAD}."
    )


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (401, None, "GitHub answered 401: Bad credentials (check the token in GITHUB_TOKEN)"),
        (403, None, "GitHub answered 403: Resource not accessible by personal access token "
                    "(the token in GITHUB_TOKEN lacks permission to open pull requests in owner/reg)"),
        (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"},
         "GitHub answered 404: Not Found (check that owner/reg exists and the token can see it)"),
        (422, {"message": "Validation Failed",
               "errors": [{"resource": "PullRequest", "code": "custom",
                           "message": f"No commits between main and {HEAD}"}]},
         f"GitHub answered 422: Validation Failed; No commits between main and {HEAD}"),
        (502, b"<html>\n<h1>502 Bad Gateway</h1>\n</html>\n", "GitHub answered 502: Bad Gateway"),
    ],
)  # fmt: skip
def test_github_errors_are_one_line(server: ForgeServer, status: int, body: object, text: str) -> None:
    server.refuse(status, body)
    with pytest.raises(ForgeError) as exc:
        github(server).open(HEAD, "main", "t", "b")
    assert str(exc.value) == text
    assert exc.value.exit_code == 3


def test_github_wrong_token(server: ForgeServer) -> None:
    with pytest.raises(ForgeError) as exc:
        github(server, REVOKED).open(HEAD, "main", "t", "b")
    assert str(exc.value) == "GitHub answered 401: Bad credentials (check the token in GITHUB_TOKEN)"
    assert server.requests[0].headers["authorization"] == "Bearer ghp_revoked"
    assert server.pulls == []


def test_github_unreachable() -> None:
    with serve(ForgeServer()) as gone:
        url = gone.url
    with pytest.raises(ForgeError) as exc:
        GitHub(url, "t", RemoteRepo("github.com", "owner/reg")).open(HEAD, "main", "t", "b")
    assert str(exc.value).startswith(f"cannot reach GitHub at {url}: ")
    assert "\n" not in str(exc.value)


def test_api_url_that_is_not_http() -> None:
    with pytest.raises(UsageError) as exc:
        GitHub("ftp://api.example.com", "t", RemoteRepo("github.com", "owner/reg")).open(
            HEAD, "main", "t", "b"
        )
    assert str(exc.value) == "GitHub API URL 'ftp://api.example.com/repos/owner/reg/pulls' is not http(s)"


def test_github_pagination_follows_the_link_header(server: ForgeServer) -> None:
    numbers = [server.add_pull(f"feature-{n}") for n in range(7)]
    items = github(server).get_all(f"{server.url}/repos/owner/reg/pulls?state=open&per_page=3")
    assert [item["number"] for item in items] == numbers
    # page 2 and 3 come from the links GitHub gives (/repositories/{id}/...), not from a URL gitreg makes up
    assert [(r.path, r.query.get("page")) for r in server.requests] == [
        ("/repos/owner/reg/pulls", None),
        ("/repositories/1296269/pulls", "2"),
        ("/repositories/1296269/pulls", "3"),
    ]
    assert all(r.headers["authorization"] == f"Bearer {server.token}" for r in server.requests)


def test_pagination_of_an_empty_list(server: ForgeServer) -> None:
    assert github(server).get_all(f"{server.url}/repos/owner/reg/pulls?state=open") == []
    assert len(server.requests) == 1


# --- GitLab -----------------------------------------------------------------------------------------------


def test_gitlab_open(server: ForgeServer) -> None:
    made = gitlab(server, path="group/sub/reg")
    mr = made.open(HEAD, "main", "Promote fraud@2 to staging (from 1)", "body")
    assert mr == PullRequest(1, "https://gitlab.example.com/group/reg/-/merge_requests/1")
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/api/v4/projects/group%2Fsub%2Freg/merge_requests")
    assert request.body == {
        "source_branch": HEAD,
        "target_branch": "main",
        "title": "Promote fraud@2 to staging (from 1)",
        "description": "body",
    }
    assert request.headers["private-token"] == server.token
    assert request.headers["content-type"] == "application/json"


def test_gitlab_existing_merge_request(server: ForgeServer) -> None:
    server.add_merge_request(HEAD, state="merged")
    iid = server.add_merge_request(HEAD)
    assert gitlab(server).open(HEAD, "main", "t", "b") == PullRequest(
        iid, f"https://gitlab.example.com/group/reg/-/merge_requests/{iid}", existed=True
    )
    post, get = server.requests
    assert post.method == "POST"
    assert (get.method, get.path) == ("GET", "/api/v4/projects/group%2Freg/merge_requests")
    assert get.query == {"source_branch": HEAD, "target_branch": "main", "state": "opened", "per_page": "100"}
    assert get.headers["private-token"] == server.token


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (401, "GitLab answered 401: 401 Unauthorized (check the token in GITLAB_TOKEN)"),
        (403, "GitLab answered 403: 403 Forbidden "
              "(the token in GITLAB_TOKEN lacks permission to open pull requests in group/reg)"),
        (409, "GitLab answered 409: Another open merge request already exists for this source branch: !1"),
    ],
)  # fmt: skip
def test_gitlab_errors_are_one_line(server: ForgeServer, status: int, text: str) -> None:
    server.refuse(status)
    with pytest.raises(ForgeError) as exc:
        gitlab(server).open(HEAD, "main", "t", "b")
    assert str(exc.value) == text


def test_gitlab_validation_errors_by_field(server: ForgeServer) -> None:
    server.refuse(400, {"message": {"source_branch": ["is invalid"]}})
    with pytest.raises(ForgeError) as exc:
        gitlab(server).open(HEAD, "main", "t", "b")
    assert str(exc.value) == "GitLab answered 400: source_branch is invalid"


def test_gitlab_pagination(server: ForgeServer) -> None:
    iids = [server.add_merge_request(f"feature-{n}") for n in range(5)]
    items = gitlab(server).get_all(f"{server.url}/api/v4/projects/group%2Freg/merge_requests?per_page=2")
    assert [item["iid"] for item in items] == iids
    assert [r.path for r in server.requests] == [
        "/api/v4/projects/group%2Freg/merge_requests",
        "/api/v4/projects/42/merge_requests",
        "/api/v4/projects/42/merge_requests",
    ]
