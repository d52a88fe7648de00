"""--shard I/N: the shards of a config together equal one unsharded run.

Default python3, the demo world. Seven targets in two accounts, some
inheriting from others; the plan of each shard (JSON) is compared with the
unsharded plan, then the shards are applied one after the other and an
unsharded plan afterwards must have nothing left to do.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world_fixture import ROOT, World  # noqa: E402

BIN = os.environ.get("SECRETSYNC_BIN", os.path.join(ROOT, "build", "secretsync"))

CONFIG = """
vault:
  address: ${VAULT_ADDR}
  auth:
    approle: {role_id: "${VAULT_ROLE_ID}", secret_id: "${VAULT_SECRET_ID}"}
aws:
  region: us-east-1
  role_pattern: "arn:aws:iam::{account_id}:role/secretsync"
sources:
  shared: {vault: {mount: shared}}
  team: {vault: {mount: kv, paths: [team/app]}}
targets:
  base:    {account_id: "111111111111", imports: [shared], secret_prefix: "app/shard/base/"}
  web:     {account_id: "111111111111", imports: [base, team], secret_prefix: "app/shard/web/"}
  api:     {account_id: "222222222222", imports: [base], secret_prefix: "app/shard/api/"}
  worker:  {account_id: "222222222222", imports: [web], secret_prefix: "app/shard/worker/"}
  cron:    {account_id: "111111111111", imports: [team], secret_prefix: "app/shard/cron/"}
  edge:    {account_id: "222222222222", imports: [worker, shared], secret_prefix: "app/shard/edge/"}
  admin:   {account_id: "111111111111", imports: [api], secret_prefix: "app/shard/admin/"}
"""


class Shard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.world = World("demo").start()
        cls.dir = tempfile.mkdtemp()
        cls.cfg = os.path.join(cls.dir, "secretsync.yaml")
        with open(cls.cfg, "w") as f:
            f.write(CONFIG)

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()

    def run_bin(self, *args):
        p = subprocess.run([BIN] + list(args) + ["-c", self.cfg], env=self.world.binary_env(),
                           capture_output=True, text=True, timeout=120)
        return p

    def plan(self, *extra):
        p = self.run_bin("plan", "--output", "json", *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_shards_equal_one_run(self):
        whole = self.plan()
        names = sorted(t["name"] for t in whole["targets"])
        self.assertEqual(len(names), 7)
        by_name = {t["name"]: t for t in whole["targets"]}
        for n in (1, 2, 3, 7, 9):
            seen = []
            for i in range(1, n + 1):
                part = self.plan("--shard", f"{i}/{n}")
                for t in part["targets"]:
                    # the same plan for the target as in the unsharded run
                    self.assertEqual(t["changes"], by_name[t["name"]]["changes"], t["name"])
                    self.assertEqual(t["counts"], by_name[t["name"]]["counts"])
                seen += [t["name"] for t in part["targets"]]
                sizes = len(part["targets"])
                self.assertLessEqual(abs(sizes - 7 / n), 1)
            # every target in exactly one shard
            self.assertEqual(sorted(seen), names, n)

        # apply shard by shard; afterwards nothing is left to do
        for i in (1, 2, 3):
            p = self.run_bin("pipeline", "--shard", f"{i}/3")
            self.assertEqual(p.returncode, 0, p.stderr)
        after = self.plan()
        self.assertEqual(after["counts"]["create"] + after["counts"]["update"] +
                         after["counts"]["delete"], 0)
        self.assertEqual(after["counts"]["unchanged"], whole["counts"]["create"])

    def test_bad_shard(self):
        p = self.run_bin("plan", "--shard", "4/3")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--shard '4/3'", p.stderr)


if __name__ == "__main__":
    unittest.main()
