"""Expands the SAM template to plain CloudFormation, offline, so that cfn-lint checks what SAM
would deploy (cfn-lint skips some checks, such as IAM actions, on an untransformed template).

usage: python infra/expand_sam.py infra/template.yaml OUT.json
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The translator asks for AWS managed policy ARNs only when a template names them."""

    def load(self):
        return {}


def main() -> None:
    template = yaml_parse(open(sys.argv[1]).read())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # sam build would replace the local code path with an S3 location.
            resource["Properties"]["CodeUri"] = "s3://bucket/key.zip"
    parameters = {
        "JwtIssuer": "https://issuer.example.com",
        "JwtAudience": "audience",
        "MailFrom": "no-reply@example.com",
        "InviteUrlBase": "https://app.example.com/invite",
    }
    expanded = transform(template, parameters, NoManagedPolicies())
    with open(sys.argv[2], "w") as out:
        json.dump(expanded, out, indent=1)


if __name__ == "__main__":
    main()
