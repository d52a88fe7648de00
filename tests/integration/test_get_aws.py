"""`secretsync get aws:SECRET_ID[#KEY][=NAME]` against moto (auth enforced).

Default python3. The base identity of the demo world reads github/token in
its own account; #KEY picks a member of a JSON secret.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from world_fixture import ROOT, World  # noqa: E402
import ghfile_parse  # noqa: E402

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))


class GetAws(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.world = World("demo").start()
        sm = cls.world.client("secretsmanager")
        sm.create_secret(Name="ci/db", Tags=[{"Key": "managed-by", "Value": "secretsync"}], SecretString=json.dumps(
            {"user": "svc", "password": "GET-AWS-CANARY-pw-7f3a"}))

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()

    def run_get(self, *specs, export=False):
        d = tempfile.mkdtemp()
        out, envf = os.path.join(d, "out"), os.path.join(d, "env")
        open(out, "w").close()
        open(envf, "w").close()
        env = self.world.binary_env({"GITHUB_OUTPUT": out, "GITHUB_ENV": envf,
                                     "GITHUB_ACTIONS": "true"})
        args = [BIN, "get"] + list(specs) + (["--export-env"] if export else [])
        p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        with open(out) as f:
            outputs = dict(ghfile_parse.parse_text(f.read())) if p.returncode == 0 else {}
        with open(envf) as f:
            exported = dict(ghfile_parse.parse_text(f.read())) if p.returncode == 0 else {}
        return p, outputs, exported

    def test_whole_secret_and_key(self):
        p, outputs, exported = self.run_get("aws:github/token=GH_TOKEN", "aws:ci/db#password",
                                            export=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(outputs["GH_TOKEN"], "ghs_actions_demo_token")
        self.assertEqual(outputs["password"], "GET-AWS-CANARY-pw-7f3a")
        self.assertEqual(exported["PASSWORD"], "GET-AWS-CANARY-pw-7f3a")
        # masked before anything else: every non-mask line is free of values
        for line in p.stdout.splitlines():
            if not line.startswith("::add-mask::"):
                self.assertNotIn("GET-AWS-CANARY", line)
                self.assertNotIn("ghs_actions_demo_token", line)
        self.assertIn("::add-mask::GET-AWS-CANARY-pw-7f3a", p.stdout)
        self.assertNotIn("GET-AWS-CANARY", p.stderr)

    def test_missing_key_lists_names_not_values(self):
        p, outputs, _ = self.run_get("aws:ci/db#nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("has no key 'nope'", p.stderr)
        self.assertIn("user", p.stderr)
        shown = [l for l in (p.stdout + p.stderr).splitlines()
                 if not l.startswith("::add-mask::")]
        self.assertNotIn("GET-AWS-CANARY", "\n".join(shown))
        self.assertEqual(outputs, {})

    def test_missing_secret_writes_nothing(self):
        p, outputs, _ = self.run_get("aws:github/token=A", "aws:does/not/exist")
        self.assertEqual(p.returncode, 1)
        self.assertIn("ResourceNotFoundException", p.stderr)
        self.assertEqual(outputs, {})

    def test_key_on_a_plain_string(self):
        p, _, _ = self.run_get("aws:github/token#x")
        self.assertEqual(p.returncode, 1)
        self.assertIn("needs a secret holding a JSON object", p.stderr)


if __name__ == "__main__":
    unittest.main()
