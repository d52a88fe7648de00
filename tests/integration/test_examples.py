"""The examples users copy, and the project's own workflows, stay valid.

* every examples/workflows/*.yml and .github/workflows/*.yml parses as YAML
  and has the shape of a workflow (on, jobs, each job's steps);
* every step that uses the action (secretsync/secretsync@REF, or ./ in this
  repository) passes only inputs action.yml declares, a command the action
  knows, and runs in a job whose permissions allow what it needs
  (id-token: write for OIDC, pull-requests/statuses: write for comment and
  status);
* action.yml declares exactly the inputs and outputs of SPEC §8;
* every examples/config-*.yaml passes `build/secretsync validate` (exit 0)
  with only VAULT_ADDR set, as its comments promise;
* the release workflow runs on v* tags with packages: write.

YAML is read with PyYAML from whichever python3 has it (the test's own, or
Debian's /usr/bin/python3 through a subprocess).

    python3 tests/integration/run.py test_examples
"""
import glob
import json
import os
import subprocess
import unittest

from world_fixture import ROOT, SCRUB_PREFIXES

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "examples", "workflows", "*.yml")) +
                   glob.glob(os.path.join(ROOT, "examples", "workflows", "*.yaml")))
PROJECT_WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "examples", "config-*.yaml")))

SPEC_INPUTS = {"command", "config", "dry-run", "targets", "exit-code", "comment", "status",
               "status-context", "github-token", "role-to-assume", "aws-region", "audience",
               "role-session-name", "role-duration-seconds", "vault-addr", "vault-namespace",
               "vault-role", "secrets", "export-env", "output-credentials", "allow-drift",
               "parallel", "log-level",
               # added by the hardening issue (docs/SPEC.md §8): --shard I/N for a matrix
               "shard"}
SPEC_OUTPUTS = {"changes", "created", "updated", "deleted", "unchanged", "failed", "plan-json",
                "aws-account-id", "aws-access-key-id", "aws-secret-access-key",
                "aws-session-token", "aws-expiration"}
COMMANDS = {"pipeline", "plan", "validate", "verify", "credentials", "get"}
BOOL_INPUTS = {"dry-run", "exit-code", "comment", "status", "export-env",
               "output-credentials", "allow-drift"}


def _yaml_module():
    try:
        import yaml
        return yaml
    except ImportError:
        return None


def load_yaml_files(paths):
    """path -> document; (None, error) when it does not parse."""
    yaml = _yaml_module()
    if yaml is not None:
        out = {}
        for p in paths:
            try:
                with open(p, encoding="utf-8") as f:
                    out[p] = (yaml.safe_load(f), None)
            except yaml.YAMLError as e:
                out[p] = (None, str(e))
        return out
    py = "/usr/bin/python3"
    code = ("import json, sys, yaml\n"
            "out = {}\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        out[p] = [yaml.safe_load(open(p, encoding='utf-8')), None]\n"
            "    except yaml.YAMLError as e:\n"
            "        out[p] = [None, str(e)]\n"
            "print(json.dumps(out, default=str))\n")
    try:
        p = subprocess.run([py, "-c", code] + list(paths), capture_output=True, text=True,
                           timeout=60)
    except OSError:
        raise unittest.SkipTest("no python3 with PyYAML (apt-get install python3-yaml)")
    if p.returncode != 0:
        raise unittest.SkipTest("no python3 with PyYAML: " + p.stderr.strip()[-300:])
    return {k: tuple(v) for k, v in json.loads(p.stdout).items()}


def on_section(doc):
    """`on:` (YAML 1.1 readers such as PyYAML turn the key into True)."""
    if "on" in doc:
        return doc["on"]
    return doc.get(True)


def action_steps(doc):
    """(job name, job, step) for every step that uses the action."""
    for name, job in (doc.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            uses = step.get("uses", "")
            if isinstance(uses, str) and (uses.startswith("secretsync/secretsync@")
                                          or uses in ("./", "./.")):
                yield name, job, step


def permissions(doc, job):
    """The job's permissions: its own block, else the workflow's."""
    perms = job.get("permissions", doc.get("permissions"))
    if perms == "write-all":
        return {k: "write" for k in ("id-token", "pull-requests", "statuses", "contents",
                                     "issues", "packages")}
    return perms or {}


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = load_yaml_files([os.path.join(ROOT, "action.yml")] + WORKFLOWS +
                                   PROJECT_WORKFLOWS)
        action, err = cls.docs[os.path.join(ROOT, "action.yml")]
        if action is None:
            raise AssertionError(f"action.yml does not parse: {err}")
        cls.action = action
        cls.inputs = set(action.get("inputs") or {})

    def test_there_are_examples(self):
        names = {os.path.basename(p) for p in WORKFLOWS}
        self.assertGreaterEqual(len(names), 5, names)
        self.assertTrue(CONFIGS)
        commands = set()
        for p in WORKFLOWS:
            doc, _ = self.docs[p]
            for _, _, step in action_steps(doc or {}):
                commands.add(str((step.get("with") or {}).get("command", "pipeline")))
        # sync, plan on PRs, scheduled verify, credentials only, get only
        self.assertLessEqual({"pipeline", "plan", "verify", "credentials", "get"}, commands)

    def test_action_declares_the_spec_inputs_and_outputs(self):
        self.assertEqual(self.inputs, SPEC_INPUTS)
        self.assertEqual(set(self.action.get("outputs") or {}), SPEC_OUTPUTS)
        runs = self.action.get("runs") or {}
        self.assertEqual(runs.get("using"), "docker")
        self.assertTrue(str(runs.get("image", "")).startswith("docker://ghcr.io/"))

    def test_workflows_parse_and_have_a_workflow_shape(self):
        for p in WORKFLOWS + PROJECT_WORKFLOWS:
            rel = os.path.relpath(p, ROOT)
            with self.subTest(workflow=rel):
                doc, err = self.docs[p]
                self.assertIsNone(err, f"{rel}: {err}")
                self.assertIsInstance(doc, dict, rel)
                self.assertTrue(on_section(doc) is not None, f"{rel}: no 'on:'")
                jobs = doc.get("jobs")
                self.assertIsInstance(jobs, dict, f"{rel}: no jobs")
                for name, job in jobs.items():
                    self.assertIn("runs-on", job, f"{rel}: job {name} has no runs-on")
                    steps = job.get("steps")
                    self.assertIsInstance(steps, list, f"{rel}: job {name} has no steps")
                    for i, step in enumerate(steps):
                        self.assertTrue(("uses" in step) != ("run" in step),
                                        f"{rel}: {name} step {i}: exactly one of uses/run")

    def test_action_steps_use_declared_inputs(self):
        seen = 0
        for p in WORKFLOWS + PROJECT_WORKFLOWS:
            doc, _ = self.docs[p]
            rel = os.path.relpath(p, ROOT)
            for job_name, job, step in action_steps(doc or {}):
                seen += 1
                with self.subTest(workflow=rel, job=job_name, step=step.get("name")):
                    self.assertRegex(step["uses"], r"^(secretsync/secretsync@v\d+|\./)$")
                    with_ = step.get("with") or {}
                    self.assertIsInstance(with_, dict)
                    unknown = sorted(set(with_) - self.inputs)
                    self.assertEqual(unknown, [], f"{rel}: inputs action.yml does not declare")
                    cmd = str(with_.get("command", "pipeline"))
                    self.assertTrue(cmd in COMMANDS or "${{" in cmd, f"{rel}: command {cmd}")
                    for k in BOOL_INPUTS & set(with_):
                        v = with_[k]
                        self.assertTrue(isinstance(v, bool) or str(v) in ("true", "false")
                                        or "${{" in str(v), f"{rel}: {k}: {v!r}")
                    if cmd == "get":
                        self.assertTrue(with_.get("secrets"), f"{rel}: get without secrets")
                    perms = permissions(doc, job)
                    if "role-to-assume" in with_ or "vault-role" in with_:
                        self.assertEqual(perms.get("id-token"), "write",
                                         f"{rel}: OIDC needs permissions: id-token: write")
                    if str(with_.get("comment")).lower() == "true":
                        self.assertEqual(perms.get("pull-requests"), "write", rel)
                    if str(with_.get("status")).lower() == "true":
                        self.assertEqual(perms.get("statuses"), "write", rel)
        self.assertGreaterEqual(seen, 5)

    def test_plan_example_reports_on_pull_requests(self):
        doc, _ = self.docs[os.path.join(ROOT, "examples", "workflows", "plan-pr.yml")]
        self.assertIn("pull_request", on_section(doc))
        self.assertEqual(doc["permissions"], {"pull-requests": "write", "statuses": "write",
                                              "id-token": "write", "contents": "read"})
        (_, _, step), = list(action_steps(doc))
        self.assertEqual(step["with"]["command"], "plan")

    def test_release_workflow(self):
        doc, err = self.docs[os.path.join(ROOT, ".github", "workflows", "release.yml")]
        self.assertIsNone(err)
        on = on_section(doc)
        self.assertEqual(on["push"]["tags"], ["v*"])
        self.assertEqual(doc["permissions"].get("packages"), "write")
        text = json.dumps(doc)
        self.assertIn("make static", text)
        self.assertIn("ghcr.io/", text)
        self.assertIn("docker push", text)

    @unittest.skipUnless(os.access(BIN, os.X_OK), f"{BIN} is not built (make)")
    def test_example_configs_validate(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        env["VAULT_ADDR"] = "https://vault.example.com:8200"
        for cfg in CONFIGS:
            rel = os.path.relpath(cfg, ROOT)
            with self.subTest(config=rel):
                p = subprocess.run([BIN, "validate", "-c", cfg], env=env, capture_output=True,
                                   text=True, timeout=30, cwd=ROOT)
                self.assertEqual(p.returncode, 0, f"{rel}:\n{p.stdout}{p.stderr}")


if __name__ == "__main__":
    unittest.main()
