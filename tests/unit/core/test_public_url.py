"""Where links point (``newsroom.core.public_url``): a URL known at deploy wins, the stack's
parameter is read only when nothing else knows it, and only once."""

from typing import Any

from newsroom.core.public_url import PublicBaseUrl


class Ssm:
    """The two things PublicBaseUrl asks of an SSM client: the client, then one parameter."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.made = 0
        self.reads: list[str] = []

    def client(self) -> Any:
        self.made += 1
        return self

    def get_parameter(self, Name: str) -> dict[str, Any]:
        self.reads.append(Name)
        return {"Parameter": {"Name": Name, "Type": "String", "Value": self.value}}


def test_a_url_known_at_deploy_wins_and_nothing_is_read() -> None:
    ssm = Ssm("https://elsewhere.example")
    public = PublicBaseUrl("https://api.example.org/", "/stack/public-base-url", ssm.client)
    assert public.value == "https://api.example.org"
    assert ssm.made == 0


def test_the_parameter_is_read_once_and_its_trailing_slash_dropped() -> None:
    ssm = Ssm("https://d1.cloudfront.net/")
    public = PublicBaseUrl("", "/stack/public-base-url", ssm.client)
    assert ssm.made == 0  # nothing at construction (module scope, the cold start)
    assert [public.value for _ in range(3)] == ["https://d1.cloudfront.net"] * 3
    assert ssm.reads == ["/stack/public-base-url"]


def test_without_either_links_follow_the_request() -> None:
    ssm = Ssm("unused")
    assert PublicBaseUrl("", "", ssm.client).value == ""
    assert ssm.made == 0
