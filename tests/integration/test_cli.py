"""The command line of SPEC §2 and §3: commands, flags, exit codes, action mode.

Runs the real binary (build/secretsync); needs no emulator. Default python3.
"""
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))
EXAMPLE = os.path.join(ROOT, "examples", "config-single-account.yaml")


def run(args, env=None, cwd=None):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    base.update(env or {})
    p = subprocess.run([BIN] + args, env=base, cwd=cwd or ROOT,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class TestUsage(unittest.TestCase):
    def test_help_for_every_command(self):
        for cmd in ["pipeline", "plan", "validate", "verify", "credentials", "get"]:
            rc, out, _ = run([cmd, "--help"])
            self.assertEqual(rc, 0, cmd)
            self.assertIn("usage: secretsync " + cmd, out)
            rc, out2, _ = run(["help", cmd])
            self.assertEqual((rc, out2), (0, out), cmd)

    def test_top_level(self):
        for args in (["--help"], ["help"], ["-h"]):
            rc, out, _ = run(args)
            self.assertEqual(rc, 0)
            self.assertIn("commands:", out)
        rc, _, err = run([])
        self.assertEqual(rc, 64)
        self.assertIn("usage:", err)

    def test_version(self):
        for args in (["version"], ["--version"]):
            rc, out, _ = run(args)
            self.assertEqual(rc, 0)
            self.assertRegex(out, r"^secretsync \d+\.\d+\.\d+ \(commit [0-9a-f]+|unknown\)")
            self.assertIn("libcurl", out)
            self.assertIn("TLS", out)

    def test_bad_command_lines_exit_64(self):
        cases = [
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["pipeline", "--frob"], "unknown option '--frob'"),
            (["validate", "--dry-run"], "'--dry-run' is not valid for 'validate'"),
            (["credentials", "--targets", "a"], "'--targets' is not valid for 'credentials'"),
            (["pipeline", "--merge-only", "--sync-only"], "exclude each other"),
            (["pipeline", "--output", "yaml"], "unknown --output 'yaml'"),
            (["pipeline", "--parallel", "0"], "--parallel '0'"),
            (["pipeline", "--parallel", "x"], "--parallel 'x'"),
            (["credentials", "--role-duration-seconds", "60"], "900 to 43200"),
            (["get"], "at least one SPEC"),
            (["pipeline", "stray"], "unexpected argument 'stray'"),
            (["pipeline", "-c"], "needs a value"),
            (["pipeline", "--log-level", "loud"], "unknown log level 'loud'"),
        ]
        for args, msg in cases:
            rc, _, err = run(args)
            self.assertEqual(rc, 64, args)
            self.assertIn(msg, err, args)

    def test_show_values_refused_in_actions(self):
        rc, _, err = run(["plan", "--show-values"], env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(rc, 64)
        self.assertIn("--show-values is refused", err)

    def test_github_token_flag_never_echoed(self):
        token = "ghs_cliTokenCanary0123456789"
        rc, out, err = run(["pipeline", "--github-token", token, "--bogus"])
        self.assertEqual(rc, 64)
        self.assertNotIn(token, out + err)


class TestConfigPath(unittest.TestCase):
    def test_env_and_default_path(self):
        with tempfile.TemporaryDirectory() as d:
            rc, _, err = run(["validate"], cwd=d)
            self.assertEqual(rc, 78)
            self.assertIn("secretsync.yaml", err)
            rc, _, err = run(["validate"], env={"SECRETSYNC_CONFIG": os.path.join(d, "x.yaml")}, cwd=d)
            self.assertEqual(rc, 78)
            self.assertIn("x.yaml", err)


class TestActionMode(unittest.TestCase):
    ENV = {"GITHUB_ACTIONS": "true", "VAULT_ADDR": "https://vault.example.com",
           "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s", "AWS_REGION": "us-east-1"}

    def env(self, **inputs):
        e = dict(self.ENV)
        for k, v in inputs.items():
            e["INPUT_" + k.upper().replace("_", "-")] = v
        return e

    def test_inputs_select_command(self):
        rc, out, err = run([], env=self.env(command="validate", config=EXAMPLE))
        self.assertEqual(rc, 0, err)
        self.assertIn("valid", out)

    def test_hyphenated_input_names_are_read(self):
        # INPUT_ROLE-DURATION-SECONDS keeps its hyphens, as the runner sets it.
        rc, _, err = run([], env=self.env(command="credentials", role_duration_seconds="5"))
        self.assertEqual(rc, 64)
        self.assertIn("--role-duration-seconds '5'", err)

    def test_bad_boolean_input(self):
        rc, _, err = run([], env=self.env(command="plan", dry_run="yes"))
        self.assertEqual(rc, 64)
        self.assertIn("input 'dry-run' must be true or false", err)

    def test_bad_command_input(self):
        rc, _, err = run([], env=self.env(command="deploy"))
        self.assertEqual(rc, 64)
        self.assertIn("input 'command' is 'deploy'", err)

    def test_empty_inputs_are_unset(self):
        rc, out, err = run([], env=self.env(command="validate", config=EXAMPLE, targets="",
                                            dry_run="", parallel=""))
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
