"""The FROM scratch image, run the way the Actions runner runs a Docker action.

Builds build/secretsync-static when it is missing or older than the sources
(`make static`: ~7 s with the dependency cache in ~/.cache/secretsync, ~50 s
cold), builds Dockerfile.scratch with Debian's podman (no base image, no
pull) into a throw-away storage root, and runs the image against the test
world the way actions/runner starts a Docker action:

  podman run --rm --network host --workdir /github/workspace
      -v WORKSPACE:/github/workspace -v FILE_COMMANDS:/github/file_commands
      -v WORKFLOW:/github/workflow -v HOME:/github/home
      -e INPUT_COMMAND -e INPUT_DRY-RUN ... -e GITHUB_ACTIONS -e GITHUB_OUTPUT ...
      IMAGE

with every input of action.yml as INPUT_<NAME> (upper case, hyphens kept,
defaults applied as the runner does), the step's env (the world's AWS and
Vault settings) and GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STEP_SUMMARY under
/github/file_commands. The outputs file is read with the runner's rules
(tests/tools/ghfile_parse.py).

podman runs with tests/emulators/containers.conf (CONTAINERS_CONF: runc,
cgroupfs, no default ulimits; crun cannot set RLIMIT_NOFILE on these
machines) and --root/--runroot/--tmpdir in a temporary directory that is
removed at the end. Skipped, with the reason, where podman or runc is
missing or cannot start a container.

    python3 tests/integration/run.py test_container
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from world_fixture import ROOT, World

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import ghfile_parse  # noqa: E402

STATIC = os.path.join(ROOT, "build", "secretsync-static")
CA = os.path.join(ROOT, "build", "ca-certificates.crt")
CONF = os.path.join(ROOT, "tests", "emulators", "containers.conf")
IMAGE = "localhost/secretsync-test:it"
MASK = "::add-mask::"
CONFIG = """\
vault:
  address: ${VAULT_ADDR}
  auth:
    approle:
      role_id: ${VAULT_ROLE_ID}
      secret_id: ${VAULT_SECRET_ID}
aws:
  region: us-east-1
  role_pattern: "arn:aws:iam::{account_id}:role/secretsync"
sources:
  shared: {vault: {mount: shared}}
  team: {vault: {mount: kv, paths: [team/app]}}
merge_store: {s3: {bucket: secretsync-merged, prefix: bundles/}}
targets:
  staging: {account_id: "111111111111", imports: [shared, team], secret_prefix: "app/"}
  prod: {account_id: "222222222222", imports: [staging], secret_prefix: "app/"}
pipeline:
  sync: {delete_orphans: true}
"""


def log(msg):
    sys.stderr.write(f"test_container: {msg}\n")
    sys.stderr.flush()


def action_inputs():
    """(name, default) of every input action.yml declares."""
    try:
        import yaml
    except ImportError:
        raise unittest.SkipTest("python3 has no yaml module (apt-get install python3-yaml)")
    with open(os.path.join(ROOT, "action.yml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [(k, (v or {}).get("default")) for k, v in doc["inputs"].items()]


def newest_source():
    files = glob.glob(os.path.join(ROOT, "src", "**", "*.[ch]"), recursive=True)
    files.append(os.path.join(ROOT, "scripts", "build-static.sh"))
    return max(os.path.getmtime(f) for f in files)


def ensure_static():
    """build/secretsync-static, rebuilt when a source is newer."""
    if os.path.exists(STATIC) and os.path.exists(CA) and \
            os.path.getmtime(STATIC) >= newest_source():
        return
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(ROOT, "scripts", "build-static.sh")], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise AssertionError("make static failed:\n" + p.stderr[-4000:] + p.stdout[-2000:])
    log(f"built build/secretsync-static in {time.monotonic() - t0:.1f}s")


class Podman:
    def __init__(self, tmp):
        self.tmp = tmp
        for d in ("root", "run", "tmp"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERS_")}
        self.env["CONTAINERS_CONF"] = CONF
        self.env["TMPDIR"] = os.path.join(tmp, "tmp")  # image build scratch space
        self.base = ["podman", "--root", os.path.join(tmp, "root"),
                     "--runroot", os.path.join(tmp, "run"),
                     "--tmpdir", os.path.join(tmp, "tmp"),
                     "--storage-driver", "vfs", "--events-backend", "file"]

    def __call__(self, args, env=None, timeout=120):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(self.base + args, env=e, capture_output=True, text=True,
                              timeout=timeout)



def runtime_problem():
    if shutil.which("podman") is None:
        return "no container runtime: podman is not installed (apt-get install podman runc)"
    if shutil.which("runc") is None:
        return ("runc is not installed (apt-get install runc): crun cannot set "
                "RLIMIT_NOFILE / run with hybrid cgroups here")
    return None


class ContainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = runtime_problem()
        if why:
            raise unittest.SkipTest(why)
        cls.inputs = action_inputs()
        cls.t0 = time.monotonic()
        ensure_static()
        cls.tmp = tempfile.mkdtemp(prefix="secretsync-container-")
        cls.podman = Podman(cls.tmp)
        cls.world = None
        try:
            cls._build()
            cls.world = World("demo").start()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _build(cls):
        # a context holding only what Dockerfile.scratch copies
        ctx = os.path.join(cls.tmp, "context")
        os.makedirs(os.path.join(ctx, "build"))
        shutil.copy2(STATIC, os.path.join(ctx, "build", "secretsync-static"))
        shutil.copy2(CA, os.path.join(ctx, "build", "ca-certificates.crt"))
        shutil.copy2(os.path.join(ROOT, "Dockerfile.scratch"), os.path.join(ctx, "Dockerfile"))
        t0 = time.monotonic()
        p = cls.podman(["build", "--pull=never", "-q", "-t", IMAGE, ctx])
        if p.returncode != 0:
            raise unittest.SkipTest(f"podman cannot build an image here: {p.stderr.strip()[-800:]}")
        cls.build_seconds = time.monotonic() - t0
        p = cls.podman(["image", "inspect", "--format", "{{.Size}}", IMAGE])
        cls.image_size = int(p.stdout.strip() or 0)
        log(f"image {IMAGE}: {cls.image_size} bytes ({cls.image_size / 1048576:.2f} MiB), "
            f"binary {os.path.getsize(STATIC)} bytes, built in {cls.build_seconds:.1f}s")
        # a container that only prints the version tells a broken runtime
        # (podman's own exit codes 125-127) from a broken binary
        p = cls.podman(["run", "--rm", "--network", "host", IMAGE, "version"])
        if p.returncode in (125, 126, 127):
            raise unittest.SkipTest("podman cannot run a container here: "
                                    + p.stderr.strip()[-800:])

    @classmethod
    def _cleanup(cls):
        if getattr(cls, "world", None):
            cls.world.stop()
        # vfs layers are plain directories and --rm removed the containers:
        # the storage root goes with the temporary directory
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()
        log(f"total {time.monotonic() - cls.t0:.1f}s")

    # -- the runner's way ------------------------------------------------------
    def run_action(self, inputs, step_env=None, event=None):
        """One step `uses: secretsync/secretsync@v0` with `with: inputs`."""
        d = tempfile.mkdtemp(dir=self.tmp, prefix="step-")
        ws, fc, wf, home = (os.path.join(d, x) for x in ("workspace", "file_commands",
                                                         "workflow", "home"))
        for x in (ws, fc, wf, home):
            os.makedirs(x)
        with open(os.path.join(ws, "secretsync.yaml"), "w", encoding="utf-8") as f:
            f.write(CONFIG)
        with open(os.path.join(wf, "event.json"), "w", encoding="utf-8") as f:
            json.dump(event or {}, f)
        guid = str(uuid.uuid4())
        names = {"GITHUB_OUTPUT": f"set_output_{guid}", "GITHUB_ENV": f"set_env_{guid}",
                 "GITHUB_STEP_SUMMARY": f"step_summary_{guid}", "GITHUB_STATE": f"save_state_{guid}",
                 "GITHUB_PATH": f"add_path_{guid}"}
        for n in names.values():
            open(os.path.join(fc, n), "w").close()
        env = {}
        for name, default in self.inputs:
            v = inputs.get(name, default)
            if v == "${{ github.token }}":
                v = self.world.env["GITHUB_TOKEN"]
            env["INPUT_" + name.upper()] = "" if v is None else str(v)
        env.update({"HOME": "/github/home", "GITHUB_ACTIONS": "true", "CI": "true",
                    "GITHUB_WORKSPACE": "/github/workspace",
                    "GITHUB_EVENT_PATH": "/github/workflow/event.json",
                    "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": "89abcdef" * 5,
                    "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "1234",
                    "GITHUB_REPOSITORY": self.world.env["GITHUB_REPOSITORY"],
                    "GITHUB_API_URL": self.world.env["GITHUB_API_URL"],
                    "RUNNER_OS": "Linux", "RUNNER_TEMP": "/home/runner/work/_temp"})
        env.update({k: "/github/file_commands/" + n for k, n in names.items()})
        # the step's env: the world's endpoints and credentials
        for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                  "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_REGION", "VAULT_ADDR", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
            env[k] = self.world.env[k]
        for k, v in (step_env or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        argv = ["run", "--rm", "--network", "host", "--workdir", "/github/workspace",
                "-v", f"{ws}:/github/workspace", "-v", f"{fc}:/github/file_commands",
                "-v", f"{wf}:/github/workflow", "-v", f"{home}:/github/home"]
        for k in env:
            argv += ["-e", k]  # the value comes from podman's environment, as with docker
        argv.append(IMAGE)
        t0 = time.monotonic()
        p = self.podman(argv, env=env)
        p.seconds = time.monotonic() - t0
        p.outputs = dict(ghfile_parse.parse_file(os.path.join(fc, names["GITHUB_OUTPUT"])))
        p.exported = dict(ghfile_parse.parse_file(os.path.join(fc, names["GITHUB_ENV"])))
        with open(os.path.join(fc, names["GITHUB_STEP_SUMMARY"]), encoding="utf-8") as f:
            p.summary = f.read()
        return p

    def show(self, p):
        lines = [ln for ln in (p.stdout + p.stderr).splitlines() if not ln.startswith(MASK)]
        return f"exit {p.returncode}\n" + "\n".join(lines[-60:])

    def counts(self, p):
        return {k: int(p.outputs[k]) for k in ("changes", "created", "updated", "deleted",
                                               "unchanged", "failed")}

    # -- tests -----------------------------------------------------------------
    def test_image_is_small(self):
        self.assertGreater(self.image_size, 100_000)
        self.assertLess(self.image_size, 8 * 1048576, "the scratch image grew past 8 MiB")

    def test_plan_dry_run_sync_and_replan(self):
        w = self.world
        w.clear_log()
        # plan: outputs and the plan-json report, nothing written
        p = self.run_action({"command": "plan"})
        self.assertEqual(p.returncode, 0, self.show(p))
        c = self.counts(p)
        self.assertEqual(c, {"changes": 9, "created": 7, "updated": 1, "deleted": 1,
                             "unchanged": 0, "failed": 0}, self.show(p))
        report = json.loads(p.outputs["plan-json"])
        self.assertEqual((report["version"], report["command"], report["dry_run"]),
                         (1, "plan", True))
        self.assertEqual([t["name"] for t in report["targets"]], ["staging", "prod"])
        self.assertIn(MASK + "demo-db-password", p.stdout.splitlines())
        self.assertNotIn("demo-db-password", "\n".join(
            ln for ln in (p.stdout + p.stderr).splitlines() if not ln.startswith(MASK)))
        self.assertIn("app/team/app/db", p.summary)
        self.assertEqual(w.log(mutating=True), [])

        # the hyphenated inputs: pipeline with dry-run and exit-code
        p = self.run_action({"command": "pipeline", "dry-run": "true", "exit-code": "true"})
        self.assertEqual(p.returncode, 2, self.show(p))
        self.assertEqual(self.counts(p)["changes"], 9)
        self.assertEqual(w.log(mutating=True), [], "dry-run input ignored: writes happened")

        # the sync
        p = self.run_action({"command": "pipeline", "targets": "staging,prod"})
        self.assertEqual(p.returncode, 0, self.show(p))
        self.assertEqual(self.counts(p), {"changes": 9, "created": 7, "updated": 1,
                                          "deleted": 1, "unchanged": 0, "failed": 0})
        self.assertTrue(w.log(service="secretsmanager", mutating=True))

        # nothing left to do
        p = self.run_action({"command": "plan", "exit-code": "true"})
        self.assertEqual(p.returncode, 0, self.show(p))
        self.assertEqual(self.counts(p)["changes"], 0)
        self.assertEqual(self.counts(p)["unchanged"], 8)

    def test_validate_and_bad_input(self):
        p = self.run_action({"command": "validate"})
        self.assertEqual(p.returncode, 0, self.show(p))
        p = self.run_action({"command": "plan", "dry-run": "maybe"})
        self.assertEqual(p.returncode, 64, self.show(p))
        self.assertIn("dry-run", p.stderr)

    def test_plan_with_oidc_role(self):
        """The quick start's way: no AWS keys, the role-to-assume input and
        the runner's OIDC token service give the base credentials."""
        w = self.world
        p = self.run_action(
            {"command": "plan", "role-to-assume": w.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"],
             "aws-region": "us-east-1"},
            step_env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                      "ACTIONS_ID_TOKEN_REQUEST_URL": w.env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                      "ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
        self.assertEqual(p.returncode, 0, self.show(p))
        self.assertEqual(self.counts(p)["failed"], 0, self.show(p))

    def test_credentials_from_oidc(self):
        w = self.world
        p = self.run_action(
            {"command": "credentials", "role-to-assume": w.env["SECRETSYNC_TEST_WEB_IDENTITY_ROLE_ARN"],
             "aws-region": "us-east-1"},
            step_env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                      "ACTIONS_ID_TOKEN_REQUEST_URL": w.env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                      "ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
        self.assertEqual(p.returncode, 0, self.show(p))
        self.assertEqual(p.outputs.get("aws-account-id"), w.env["SECRETSYNC_TEST_ACCOUNT_ID"])
        self.assertTrue(p.exported.get("AWS_ACCESS_KEY_ID", "").startswith("ASIA"))
        self.assertIn(MASK + p.exported["AWS_SECRET_ACCESS_KEY"], p.stdout.splitlines())


if __name__ == "__main__":
    unittest.main()
