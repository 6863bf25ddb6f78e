"""``newsroom.read_api.settings.ApiSettings`` from the environment ``template.yaml`` gives the
API function: the CORS origins from the ``CorsAllowedOrigins`` parameter (``*`` by default, a
comma-separated list when deployed; SAM's own ``Cors`` stays off because the function answers
preflights itself) and the API docs off unless the ``EnableApiDocs`` parameter turns them
on."""

from devtools.template import function_environment, parameter_default, resource
from newsroom.read_api.settings import ApiSettings


def test_cors_origins_come_from_the_parameter() -> None:
    variables = resource("ApiFunction")["Environment"]["Variables"]
    assert variables["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}
    assert parameter_default("CorsAllowedOrigins") == "*"
    env = function_environment("ApiFunction")
    assert env["CORS_ALLOWED_ORIGINS"] == "*"
    assert ApiSettings.from_env({**env, "STORIES_TABLE": "t"}).cors_origins == ("*",)
    deployed = {
        **env,
        "STORIES_TABLE": "t",
        "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    }
    assert ApiSettings.from_env(deployed).cors_origins == ("https://a.example", "https://b.example")
    # The function answers preflights itself; SAM's own Cors would add conflicting OPTIONS.
    assert "Cors" not in resource("ContentApi")


def test_api_docs_are_off_by_default() -> None:
    assert parameter_default("EnableApiDocs") == "false"
    variables = resource("ApiFunction")["Environment"]["Variables"]
    assert variables["ENABLE_API_DOCS"] == {"Ref": "EnableApiDocs"}
    env = {**function_environment("ApiFunction"), "STORIES_TABLE": "t"}
    assert ApiSettings.from_env(env).docs_enabled is False
