"""Deployment: docker-compose.yml, Dockerfile, .dockerignore and .env.example (parsed: no Docker engine runs
here), and graceful shutdown of the real service (uvicorn in this process, answers from a real local HTTP
server speaking the Ollama protocol, tests/ollama_server.py)."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import shlex
import socket
import threading
import time
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from qa.config import Settings
from qa.api.runtime import GenerationPool, PoolFull, ShuttingDown
from qa.api.server import uvicorn_config

try:
    from tests.ollama_server import OllamaServer, _Handler
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer, _Handler

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SECRETS = {"POSTGRES_PASSWORD": "s3cret"}  # what an operator sets in .env
MODEL = "qwen2.5:7b-instruct"
FR_QUESTION = "Ai-je droit à une indemnité de télétravail ?"
QA_VAR = re.compile(r"\bQA_[A-Z0-9_]+\b")


# ---------------------------------------------------------------- helpers


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${VAR:-default}` / `${VAR}` / `${VAR:?message}` with the given environment (none: the
    defaults); a required variable that is missing raises, as `docker compose` stops with its message."""
    env = env or {}

    def one(m: re.Match) -> str:
        name, kind, text = m.group(1), m.group(2) or "", m.group(3) or ""
        if kind.endswith("?") and not env.get(name):
            raise KeyError(f"{name}: {text}")
        return env.get(name) or ("" if kind.endswith("?") else text)
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", one, value)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not current and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        current += raw
        word, _, rest = current.strip().partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instruction in dockerfile():
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def mounts(service: dict) -> dict[str, str]:
    """container path -> source (named volume or host path) of a service's short-syntax volumes."""
    out = {}
    for spec in service.get("volumes", []):
        source, target, *_ = interpolate(spec).split(":")
        out[target] = source
    return out


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_services_and_the_ollama_side():
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", "ollama", "ollama-pull", "api", "nginx", "ingest"}
    ollama = services["ollama"]
    assert ollama["image"].split(":")[0] == "ollama/ollama"
    assert ollama["healthcheck"]["test"][-2:] == ["ollama", "list"]
    models = ollama["environment"]["OLLAMA_MODELS"]
    assert mounts(ollama)[models] in compose()["volumes"]  # the models survive a re-create
    assert "ports" not in ollama  # only the API talks to it

    pull = services["ollama-pull"]
    assert pull["image"].split(":")[0] == "ollama/ollama"
    assert pull["environment"]["OLLAMA_HOST"] == "http://ollama:11434"
    assert pull["depends_on"] == {"ollama": {"condition": "service_healthy"}}
    assert pull.get("restart") == "no"
    script = " ".join(pull.get("entrypoint", []) + pull["command"])
    assert "ollama pull '${QA_OLLAMA_MODEL:-qwen2.5:7b-instruct}'" in script
    # The default pulled model is the model the API asks for by default.
    assert interpolate(script).count(f"'{MODEL}'") == 2 and Settings.model_fields["ollama_model"].default == MODEL
    assert f"'{'gemma3:12b'}'" in interpolate(script, {"QA_OLLAMA_MODEL": "gemma3:12b"})


def test_compose_api_service():
    spec = compose()
    api = spec["services"]["api"]
    assert api["build"] == "."
    env = {k: interpolate(str(v), SECRETS) for k, v in api["environment"].items()}
    assert env["QA_GENERATOR"] == "ollama" and env["QA_OLLAMA_URL"] == "http://ollama:11434"
    assert api["depends_on"]["ollama-pull"] == {"condition": "service_completed_successfully"}
    assert api["depends_on"]["ollama"] == {"condition": "service_healthy"}
    assert "readyz" in " ".join(api["healthcheck"]["test"])
    assert api["healthcheck"]["start_period"]  # EmbeddingGemma takes a while to load on a CPU

    volumes = mounts(api)
    documents = next(v for v in api["volumes"] if ":/documents" in v)
    assert documents.endswith(":/documents:ro") and env["QA_CORPUS_DIR"] == "/documents"
    # The index is a named volume the replicas only read: the ingest job writes it.
    assert volumes[env["QA_INDEX_DIR"]] in spec["volumes"]
    index = next(v for v in api["volumes"] if f":{env['QA_INDEX_DIR']}" in v)
    assert index.endswith(f":{env['QA_INDEX_DIR']}:ro")
    # Docker waits long enough for a graceful shutdown (requests, then generation: twice the timeout).
    grace = int(api["stop_grace_period"].rstrip("s"))
    assert grace > 2 * Settings.model_fields["shutdown_timeout_s"].default


def test_compose_runs_two_replicas_behind_the_proxy_sharing_their_state():
    services = compose()["services"]
    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert "ports" not in api and "container_name" not in api  # replicas: reached through nginx only
    env = {k: interpolate(str(v), SECRETS) for k, v in api["environment"].items()}
    database = make_url(env["QA_DATABASE_URL"])
    assert (database.get_backend_name(), database.host, database.port) == ("postgresql", "postgres", 5432)
    assert env["QA_RATE_LIMIT_STORAGE"] == "redis://redis:6379/0"
    for server in ("postgres", "redis"):
        assert api["depends_on"][server] == {"condition": "service_healthy"}
    # The client address for rate limits comes from nginx's X-Forwarded-For (uvicorn trusts it only from these).
    assert env["FORWARDED_ALLOW_IPS"] == "*"
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):  # no default password: compose stops and says so
        interpolate(str(api["environment"]["QA_DATABASE_URL"]))


def test_compose_postgres_and_redis():
    spec = compose()
    postgres, redis = spec["services"]["postgres"], spec["services"]["redis"]
    assert postgres["image"].split(":")[0] == "postgres" and redis["image"].split(":")[0] == "redis"  # official
    assert mounts(postgres)["/var/lib/postgresql/data"] in spec["volumes"]
    assert mounts(redis)["/data"] in spec["volumes"]
    assert postgres["healthcheck"]["test"][1] == "pg_isready" and redis["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert "ports" not in postgres and "ports" not in redis  # only the replicas reach them
    # The API's URL names the user, database and password the postgres service is created with.
    pg_env = {k: interpolate(str(v), SECRETS) for k, v in postgres["environment"].items()}
    url = make_url(interpolate(str(spec["services"]["api"]["environment"]["QA_DATABASE_URL"]), SECRETS))
    assert (url.username, url.password, url.database) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"],
                                                          pg_env["POSTGRES_DB"])


def test_compose_nginx_in_front_of_the_replicas():
    spec = compose()
    nginx, api = spec["services"]["nginx"], spec["services"]["api"]
    assert nginx["image"].split(":")[0] == "nginx"  # official image
    assert mounts(nginx)["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"
    assert any(v.endswith(":/etc/nginx/nginx.conf:ro") for v in nginx["volumes"])
    # Published on loopback unless the operator says otherwise, on the port nginx listens on.
    host, host_port, container_port = interpolate(nginx["ports"][0]).split(":")
    assert (host, host_port) == ("127.0.0.1", "8000")
    config = NGINX_CONF.read_text(encoding="utf-8")
    assert re.search(rf"^\s*listen {container_port};", config, re.M)
    assert f"{container_port}/nginx-health" in " ".join(nginx["healthcheck"]["test"])
    # To the API's port (its healthcheck's), resolved per request by Docker's DNS so every replica is used.
    assert "127.0.0.1:8000/readyz" in " ".join(api["healthcheck"]["test"])
    assert re.search(r"set \$api http://api:8000;", config) and "proxy_pass $api;" in config
    assert "resolver 127.0.0.11" in config
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config  # overwritten: clients cannot pick their key
    assert "proxy_next_upstream error timeout;" in config  # never a second copy of a request a replica received
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", config).group(1))
    assert body_mb * 2**20 > Settings.model_fields["max_upload_bytes"].default
    read_s = int(re.search(r"proxy_read_timeout (\d+)s;", config).group(1))
    assert read_s > Settings.model_fields["answer_timeout_s"].default


def test_the_nginx_config_passes_nginx_t(tmp_path):
    """Debian's nginx checks the very file the compose service mounts (`make servers` installs it)."""
    import shutil
    import subprocess

    try:
        from tests.servers import missing
    except ImportError:
        from servers import missing
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        missing("nginx", "nginx")
    done = subprocess.run([nginx, "-t", "-c", str(NGINX_CONF), "-p", f"{tmp_path}/"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


def test_compose_ingest_job_builds_into_the_api_index():
    services = compose()["services"]
    api, ingest = services["api"], services["ingest"]
    assert "ingest" in ingest["profiles"]  # not started by a plain `docker compose up`
    assert ingest["command"] == ["qa", "ingest", "/documents"]
    assert ingest["image"] == api["image"]
    env = {k: interpolate(str(v), SECRETS) for k, v in ingest["environment"].items()}
    assert mounts(ingest)[env["QA_INDEX_DIR"]] == mounts(api)[env["QA_INDEX_DIR"]]
    index = next(v for v in ingest["volumes"] if f":{env['QA_INDEX_DIR']}" in v)
    assert not index.endswith(":ro")  # the one writer of the index the replicas read
    assert env["QA_EMBED_MODEL"] == interpolate(str(api["environment"]["QA_EMBED_MODEL"]))  # same embedder
    assert any(v.endswith(":/documents:ro") for v in ingest["volumes"])


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_is_multi_stage_slim_and_non_root():
    all_stages = stages()
    assert len(all_stages) >= 2
    args = dict(a.split("=", 1) for k, a in dockerfile() if k == "ARG" and "=" in a)
    bases = [interpolate(stage[0][1].split()[0], args) for stage in all_stages]
    assert bases[-1] == "python:3.11-slim"
    final = all_stages[-1]
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    run = " ".join(a for k, a in final if k == "RUN")
    assert "useradd" in run and users[-1] in run  # the user exists in the image
    # The named volumes' mount points exist and belong to that user, so the volumes are writable.
    env = final_env()
    assert f"chown -R {users[-1]}:{users[-1]} /var/lib/qa" in run
    assert env["QA_INDEX_DIR"].startswith("/var/lib/qa/") and env["QA_DATA_DIR"].startswith("/var/lib/qa/")


def final_env() -> dict[str, str]:
    env = {}
    for k, a in stages()[-1]:
        if k == "ENV":
            for item in shlex.split(a):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_dockerfile_healthcheck_and_command():
    final = stages()[-1]
    health = [a for k, a in final if k == "HEALTHCHECK"]
    assert health and "/readyz" in health[0] and "--start-period" in health[0]
    cmd = [a for k, a in final if k == "CMD"]
    assert json.loads(cmd[-1]) == ["qa", "serve", "--host", "0.0.0.0"]
    assert any(k == "EXPOSE" and a == "8000" for k, a in final)


def test_dockerfile_cpu_torch_offline_models_and_no_llama_cpp():
    text = " ".join(a for _, a in dockerfile())
    pinned = next(d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
                  if d.startswith("torch"))
    assert f"pip install {pinned} --index-url https://download.pytorch.org/whl/cpu" in text
    assert "qa models fetch embeddinggemma" in text
    env = final_env()
    assert env["HF_HUB_OFFLINE"] == "1" and env["QA_MODELS_DIR"] == "/opt/qa/models"
    assert any(k == "COPY" and a.endswith("/opt/qa/models /opt/qa/models") for k, a in stages()[-1])
    assert not re.search(r"llama[-_]cpp|\[embedded\]", text, re.I)  # Ollama generates in this image
    assert env["QA_GENERATOR"] == "ollama"


def test_dockerignore_keeps_what_the_build_copies_and_drops_the_rest():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") or
                   fnmatch.fnmatch(path, p.replace("**/", "")) for p in patterns)

    for secret in (".env", ".venv", ".git", "index", "data", "eval", "tests", "model.gguf"):
        assert ignored(secret), secret
    copied = [a.split()[:-1] for k, a in dockerfile() if k == "COPY" and not a.startswith("--from")]
    for sources in copied:
        for source in sources:
            assert not ignored(source.rstrip("/")), source
            assert (ROOT / source).exists(), source


# ---------------------------------------------------------------- every QA_* variable is a setting


def test_every_qa_variable_used_in_deployment_files_is_a_setting():
    fields = {f"QA_{name.upper()}" for name in Settings.model_fields}
    for name in ("docker-compose.yml", "Dockerfile", ".env.example"):
        used = set(QA_VAR.findall((ROOT / name).read_text(encoding="utf-8")))
        assert used, name
        assert used <= fields, f"{name} uses {sorted(used - fields)}, which qa.config.Settings does not have"


def test_env_example_is_valid_settings(tmp_path):
    example = env_example()
    assert example["QA_OLLAMA_MODEL"] == MODEL
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.ollama_model == MODEL and settings.api_keys == {} and settings.log_questions is False
    assert settings.shutdown_timeout_s == float(example["QA_SHUTDOWN_TIMEOUT_S"])
    # compose-only variables (no QA_ prefix) are ignored by the settings
    assert {"DOCUMENTS_DIR", "API_BIND", "API_PORT", "POSTGRES_PASSWORD"} <= set(example)
    assert example["POSTGRES_PASSWORD"] == ""  # no shared default password: compose asks for one


# ---------------------------------------------------------------- graceful shutdown: the generation pool


def test_closing_the_pool_stops_generation_cancels_the_queue_and_refuses_new_answers():
    pool = GenerationPool(workers=1, queue_size=2)
    started = threading.Event()
    tokens: list[int] = []

    def generate():
        started.set()
        for i in range(1000):  # a long answer that streams a token every 10 ms
            pool.checkpoint("piece")
            tokens.append(i)
            time.sleep(0.01)
        return "complete"

    running = pool.submit(generate)
    waiting = pool.submit(lambda: "never")
    assert started.wait(5)
    t0 = time.perf_counter()
    report = pool.close(timeout=5)
    assert time.perf_counter() - t0 < 1  # stopped at the next token, not after 10 s of answer
    assert report == {"cancelled": 1, "finished": 1, "abandoned": 0}
    assert waiting.cancelled()
    with pytest.raises(ShuttingDown):
        running.result()
    assert len(tokens) < 1000 and pool.in_flight == 0
    with pytest.raises(PoolFull, match="shutting down"):  # a 503 for callers, like a full queue
        pool.submit(lambda: "late")


def test_closing_the_pool_lets_an_answer_finish_within_the_timeout():
    pool = GenerationPool(workers=1, queue_size=0)
    started = threading.Event()

    def loading_a_model():  # cannot be interrupted, but ends in time
        started.set()
        time.sleep(0.3)
        return "loaded"

    future = pool.submit(loading_a_model)
    assert started.wait(5)
    assert pool.close(timeout=5) == {"cancelled": 0, "finished": 1, "abandoned": 0}
    assert future.result() == "loaded"


def test_closing_the_pool_gives_up_after_the_timeout():
    pool = GenerationPool(workers=1, queue_size=0)
    release = threading.Event()
    future = pool.submit(release.wait, 10)
    t0 = time.perf_counter()
    assert pool.close(timeout=0.3) == {"cancelled": 0, "finished": 0, "abandoned": 1}
    assert 0.25 < time.perf_counter() - t0 < 2
    release.set()
    assert future.result(5) is True


# ---------------------------------------------------------------- graceful shutdown: the real server


class _GatedHandler(_Handler):
    """Holds every chat reply until the test opens the gate."""

    def _stream_chat(self, model, body):
        self.server.owner.chat_started.set()
        self.server.owner.gate.wait(30)
        super()._stream_chat(model, body)


@pytest.fixture
def api_log(caplog):
    """Records of the `qa.api` logger, even if `configure_logging` (qa serve) turned its propagation off."""
    logger = logging.getLogger("qa.api")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # each record once
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.setLevel(level)
    logger.propagate = propagate


def _stopped(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith('{"event": "stopped"')]


@pytest.fixture
def gated_ollama():
    with OllamaServer(models={MODEL}, reply=["L'indemnité", " de bureau", " s'élève", " à 151,70 euros", " [1]."]) as srv:
        srv._httpd.RequestHandlerClass = _GatedHandler
        srv.gate, srv.chat_started = threading.Event(), threading.Event()
        yield srv
        srv.gate.set()


def _start_server(qa_settings, qa_index, srv, shutdown_timeout_s: float):
    import uvicorn

    from qa.api import create_app
    from qa.service import QAService

    settings = qa_settings(ollama_url=srv.url, ollama_model=MODEL, shutdown_timeout_s=shutdown_timeout_s)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # a free port, held from the start (no race with other tests)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(create_app(settings, QAService.load(settings, qa_index)), settings,
                                           "127.0.0.1", port))
    assert server.config.timeout_graceful_shutdown == shutdown_timeout_s  # what `qa serve` passes too
    # Not the main thread, so uvicorn installs no signal handlers; `should_exit` is what SIGTERM sets.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def _ask_in_background(url: str) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def ask():
        try:
            result["response"] = httpx.post(f"{url}/v1/ask", json={"question": FR_QUESTION, "generator": "ollama"},
                                            timeout=30)
        except httpx.HTTPError as exc:
            result["error"] = exc
    thread = threading.Thread(target=ask)
    thread.start()
    return thread, result


def test_sigterm_lets_the_answer_in_flight_finish(qa_settings, qa_index, gated_ollama, api_log):
    server, thread, url = _start_server(qa_settings, qa_index, gated_ollama, shutdown_timeout_s=10)
    asking, result = _ask_in_background(url)
    assert gated_ollama.chat_started.wait(20), "the answer never reached the generator"

    server.should_exit = True  # what uvicorn's SIGTERM handler does
    deadline = time.monotonic() + 10
    while True:  # no new connections once shutting down
        try:
            httpx.get(f"{url}/healthz", timeout=2)
        except httpx.ConnectError:
            break
        assert time.monotonic() < deadline, "the server still accepts connections after the signal"
        time.sleep(0.05)
    gated_ollama.gate.set()  # the model answers after the signal...
    asking.join(20)
    response = result.get("response")
    assert response is not None and response.status_code == 200, result  # ...and the member still gets it
    assert "151,70" in response.json()["answer"]
    thread.join(15)
    assert not thread.is_alive()
    assert _stopped(api_log) == [{"event": "stopped", "cancelled": 0, "finished": 0, "abandoned": 0}]


def test_shutdown_timeout_cancels_an_answer_that_takes_too_long(qa_settings, qa_index, gated_ollama, api_log):
    server, thread, url = _start_server(qa_settings, qa_index, gated_ollama, shutdown_timeout_s=0.5)
    asking, result = _ask_in_background(url)
    assert gated_ollama.chat_started.wait(20)

    t0 = time.perf_counter()
    server.should_exit = True
    # The request gets 0.5 s, is cancelled; the lifespan exit then waits up to 0.5 s for the generation.
    thread.join(10)
    assert not thread.is_alive() and time.perf_counter() - t0 < 5
    asking.join(10)
    response = result.get("response")  # a clean 503 that says to ask again, never a half answer or a 500
    assert response is not None and response.status_code == 503, result
    assert "restarting" in response.json()["detail"] and response.headers["Retry-After"]
    stopped = _stopped(api_log)
    assert len(stopped) == 1 and stopped[0]["abandoned"] == 1  # the generation was still waiting on the model
    gated_ollama.gate.set()  # the model replies at last: its first token stops the generation thread
