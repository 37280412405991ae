"""Bad input typed by hand: one clear line naming the option and the accepted form.

Every row runs through the real ``%%sm_train`` magic. Each must raise exactly ``UsageError``
with a one-line message that names the option and says what is accepted; no job folder may
be created and nothing may run (every cell that holds code first writes a marker file).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

MARKER = "RAN"
RUN = f'open("{MARKER}", "w").write("ran")\n'  # line 1 of every cell below that holds code

# (id, magic line, cell (None: just the marker line), option named, accepted-form hint regex)
ROWS = [
    # the line itself
    ("unknown-option", "--epochs 3", None, "--epochs", r"unknown option"),
    ("unknown-option-with-value", "--epochs=3", None, "--epochs", r"unknown option"),
    ("did-you-mean", "--inpt train=data/train", None, "--inpt", r"did you mean --input\?"),
    ("single-dash-did-you-mean", "-hp a=1", None, "-hp", r"did you mean --hp\?"),
    ("abbreviation", "--inst 2", None, "--inst",
     r"not abbreviated.*--instance-type or --instance-count\?"),
    ("abbreviation-unique", "--max-r 1h", None, "--max-r", r"not abbreviated.*--max-run\?"),
    ("option-without-value", "--hp", None, "--hp", r"expected a value \(--hp KEY=VALUE\)"),
    ("flag-given-a-value", "--wait=yes", None, "--wait", r"takes no value.*--wait alone"),
    ("second-variable", "job job2", None, "line", r"a variable name comes first"),
    ("value-after-options", "--job-name my job", None, "--job-name",
     r"one value per option, quoted when it holds spaces"),
    ("hp-missing-second-flag", "--hp a=1 b=2", None, "--hp", r"one value per option"),
    ("unclosed-quote", "--hp 'name=x", None, "line", r"matching '\.\.\.' quotes"),
    ("unclosed-double-quote", '--hp "name=x', None, "line", r'matching "\.\.\." quotes'),
    ("bad-variable-name", "job-1 --hp a=1", None, "variable", r"%%sm_train job"),
    ("keyword-variable", "for --hp a=1", None, "variable", r"%%sm_train job"),
    ("unknown-$var", "--hp lr=$nope", None, "--hp", r"an existing variable, or \$\$"),
    ("failing-{expr}", "--hp lr={1/0}", None, "--hp", r"ZeroDivisionError.*a Python expression"),
    ("syntax-in-{expr}", "--hp lr={lr +* 2}", None, "--hp", r"SyntaxError.*a Python expression"),
    # empty values are errors, never silently the default
    ("mode-empty", "--mode ''", None, "--mode", r"empty value.*--mode MODE"),
    ("region-empty-$var", "--mode sagemaker --region $blank --dry-run", None, "--region",
     r"empty value.*--region REGION"),
    ("entry-script-empty", "--entry-script ''", None, "--entry-script", r"--entry-script NAME"),
    ("dependencies-blank", "--dependencies ' '", None, "--dependencies",
     r"--dependencies PATH"),
    # KEY=VALUE options
    ("hp-no-equals", "--hp lr", None, "--hp", r"KEY=VALUE"),
    ("hp-empty-key", "--hp =3", None, "--hp", r"empty name.*KEY=VALUE"),
    ("hp-twice", "--hp a=1 --hp a=2", None, "--hp", r"'a' given twice"),
    ("input-no-equals", "--input train", None, "--input", r"NAME=PATH_OR_S3_URI"),
    ("input-empty-name", "--input =data/train", None, "--input", r"NAME=PATH_OR_S3_URI"),
    ("input-empty-path", "--input train=", None, "--input", r"no path.*NAME=PATH_OR_S3_URI"),
    ("env-no-equals", "--env FOO", None, "--env", r"KEY=VALUE"),
    ("tag-no-equals", "--tag team", None, "--tag", r"KEY=VALUE"),
    ("tag-twice", "--tag team=a --tag team=b", None, "--tag", r"given twice.*KEY=VALUE"),
    ("metric-no-equals", "--metric loss", None, "--metric", r"NAME=REGEX"),
    ("content-type-no-equals", "--content-type train", None, "--content-type", r"NAME=TYPE"),
    # hyperparameters
    ("hps-bad-json", "--hps bad.json", None, "--hps", r"invalid JSON at line 2.*JSON object"),
    ("hps-bad-yaml", "--hps bad.yaml", None, "--hps", r"invalid YAML.*YAML mapping"),
    ("hps-missing-file", "--hps missing.json", None, "--hps", r"PATH\.json, PATH\.yaml"),
    ("hps-unknown-file-type", "--hps reqs.txt", None, "--hps", r"PATH\.json, PATH\.yaml"),
    ("hps-json-list", "--hps list.json", None, "--hps", r"holds a list.*mapping"),
    ("hps-yaml-scalar", "--hps scalar.yaml", None, "--hps", r"holds a int.*mapping"),
    ("hps-var-not-dict", "--hps $a_list", None, "--hps", r"\$dict"),
    ("hps-var-none", "--hps $nothing", None, "--hps", r"\$dict"),
    ("hp-reserved-name", "--hp sagemaker_program=x.py", None, "--hp",
     r"not starting with sagemaker_"),
    ("hps-reserved-name", "--hps $reserved", None, "--hp", r"not starting with sagemaker_"),
    ("hp-name-with-equals", "--hps $bad_names", None, "--hp", r"cannot hold '='"),
    ("hp-not-json-value", "--hp a=$an_object", None, "--hp", r"a string, number, boolean"),
    ("hp-aws-key-value", "--hp key=AKIAIOSFODNN7EXAMPLE", None, "--hp",
     r"credential.*secret store"),
    ("hp-hf-token-value", "--hp tok=hf_abcdefghijklmnopqrstuvwxyz0123", None, "--hp",
     r"credential"),
    ("hp-too-many", "--hps $many_hps", None, "--hp", r"the limit is 100"),
    ("hp-value-too-long", "--hp text={'x' * 3000}", None, "--hp", r"2500"),
    # compute
    ("mode-unknown", "--mode cloud", None, "--mode", r"local \| container \| sagemaker"),
    ("mode-upper-case", "--mode LOCAL", None, "--mode", r"local \| container \| sagemaker"),
    ("count-zero", "--instance-count 0", None, "--instance-count", r"integer from 1"),
    ("count-negative", "--instance-count -2", None, "--instance-count", r"integer from 1"),
    ("count-not-int", "--instance-count two", None, "--instance-count", r"a whole number"),
    ("count-fraction", "--instance-count 1.5", None, "--instance-count", r"a whole number"),
    ("count-bool-$var", "--instance-count $yes", None, "--instance-count", r"a whole number"),
    ("count-many-local", "--instance-count 2", None, "--instance-count", r"--mode container"),
    ("volume-zero", "--volume-gb 0", None, "--volume-gb", r"1 to 16384"),
    ("volume-huge", "--volume-gb 99999", None, "--volume-gb", r"1 to 16384"),
    ("volume-not-int", "--volume-gb 1.5", None, "--volume-gb", r"a whole number"),
    ("instance-type-form", "--instance-type m5.large", None, "--instance-type",
     r"ml\.<family>\.<size>"),
    ("distributed-unknown", "--distributed deepspeed", None, "--distributed", r"torchrun, mpi"),
    ("pph-without-torchrun", "--processes-per-host 2", None, "--processes-per-host",
     r"--distributed torchrun\|mpi\|DRIVER.py --processes-per-host N"),
    ("pph-zero", "--distributed torchrun --processes-per-host 0", None,
     "--processes-per-host", r"1 to 1024"),
    ("pph-not-int", "--distributed torchrun --processes-per-host two", None,
     "--processes-per-host", r"a whole number"),
    ("python-missing", "--python /nonexistent/python", None, "--python",
     r"not an executable file.*Python 3 executable"),
    ("python-directory", "--python data", None, "--python", r"not an executable file"),
    ("python-not-python", "--python /bin/true", None, "--python",
     r"does not run as Python 3.*Python 3 executable"),
    # stopping conditions and later-mode options
    ("max-run-word", "--max-run soon", None, "--max-run", r"90m, 2h, 1d, 1h30m"),
    ("max-run-fraction", "--max-run 1.5h", None, "--max-run", r"90m, 2h, 1d, 1h30m"),
    ("max-run-negative", "--max-run -5", None, "--max-run", r"90m, 2h"),
    ("max-run-zero", "--max-run 0", None, "--max-run", r"from 1 to 2419200"),
    ("max-run-over-28-days", "--max-run 29d", None, "--max-run", r"from 1 to 2419200"),
    ("max-wait-without-spot", "--max-wait 3600", None, "--max-wait", r"--spot --max-wait"),
    ("max-wait-below-max-run", "--mode sagemaker --spot --max-run 2h --max-wait 1h --dry-run",
     None, "--max-wait", r"at least --max-run"),
    ("spot-in-local", "--spot", None, "--spot", r"--mode sagemaker"),
    ("keep-alive-in-local", "--keep-alive 10m", None, "--keep-alive", r"--mode sagemaker"),
    ("keep-alive-too-long", "--mode sagemaker --keep-alive 7h --dry-run", None, "--keep-alive",
     r"from 0 to 21600"),
    ("checkpoint-not-s3", "--mode sagemaker --checkpoint-s3 /tmp/x --dry-run", None,
     "--checkpoint-s3", r"s3://bucket/prefix"),
    ("role-not-arn", "--mode sagemaker --role admin --dry-run", None, "--role",
     r"arn:aws:iam::123456789012:role/Name"),
    ("role-short-account", "--mode sagemaker --role arn:aws:iam::123:role/R --dry-run", None,
     "--role", r"arn:aws:iam::123456789012:role/Name"),
    ("region-unknown", "--mode sagemaker --region mars-1 --dry-run", None, "--region",
     r"such as us-east-1"),
    ("region-upper-case", "--mode sagemaker --region US-EAST-1 --dry-run", None, "--region",
     r"such as us-east-1"),
    ("output-s3-in-local", "--output s3://bucket/out", None, "--output", r"local directory"),
    ("output-under-a-file", "--output bad.json/out", None, "--output", r"a directory path"),
    ("container-needs-image", "--mode container", None, "--image", r"--image NAME\[:TAG\]"),
    ("image-kind-unknown", "--mode container --image x --image-kind fancy", None,
     "--image-kind", r"toolkit \| plain"),
    ("image-missing", "--mode container --image smnb-test/no-such-image:0", None, "--image",
     r"could not be pulled.*docker image ls"),
    ("form-headless-incomplete", "--form --mode container", None, "--form",
     r"headless run.*--image: container mode needs an image"),
    # names
    ("job-name-underscore", "--job-name a_b", None, "--job-name", r"1-63 letters, digits"),
    ("job-name-dot", "--job-name a.b", None, "--job-name", r"1-63 letters, digits"),
    ("job-name-too-long", "--job-name " + "x" * 64, None, "--job-name", r"1-63"),
    ("job-name-dash-start", "--job-name=-abc", None, "--job-name", r"not starting"),
    ("job-name-dash-end", "--job-name abc-", None, "--job-name", r"not starting or ending"),
    ("job-and-base-job-name", "--job-name a --base-job-name b", None, "--job-name",
     r"--job-name or --base-job-name, not both"),
    ("base-job-name-bad", "--mode sagemaker --base-job-name bad_name", None, "--base-job-name",
     r"allow only letters, digits and hyphens, starting with a letter or digit \(expected up "
     r"to 39 letters, digits and hyphens, such as bad-name\)"),
    ("base-job-name-nothing-valid", "--base-job-name ___", None, "--base-job-name",
     r"up to 39"),
    ("tag-aws-prefix", "--tag aws:team=ml", None, "--tag", r"not starting with aws:"),
    # inputs and code
    ("input-missing-path", "--input train=missing/dir", None, "--input",
     r"existing file or directory, or an s3:// URI"),
    ("input-bad-s3-uri", "--mode sagemaker --input train=s3://Bad_Bucket/x --dry-run", None,
     "--input", r"s3://bucket/prefix"),
    ("subnets-alone", "--mode sagemaker --subnets subnet-0abc1234 --dry-run", None,
     "--security-groups", r"a VPC needs both subnets and security groups"),
    ("subnet-id-bad", "--mode sagemaker --subnets sub-1 --security-groups sg-0abc1234 "
     "--dry-run", None, "--subnets", r"invalid id 'sub-1': EC2 names them subnet- and 8 or "
     r"17 hex digits \(expected comma-separated ids such as subnet-0abc1234\)"),
    ("code-channel-taken", "--mode sagemaker --image r.io/x --image-kind plain "
     "--input code=data/train",
     None, "--input", r"the channel name 'code' carries the code .* \(expected another "
     r"channel name\)"),
    ("isolation-local", "--network-isolation", None, "--network-isolation",
     r"not available in local mode \(expected --mode sagemaker\)"),
    ("input-not-a-path", "--input train=$a_list", None, "--input",
     r"NAME=\$dataframe"),
    ("input-twice", "--input train=data/train --input train=data/train", None, "--input",
     r"given twice"),
    ("input-bad-name", "--input 'my data=data/train'", None, "--input", r"channel"),
    ("input-name-with-slash", "--input a/b=data/train", None, "--input",
     r"letters, digits and \.-_"),
    ("content-type-unknown-channel", "--content-type test=text/csv", None, "--content-type",
     r"a channel given with --input"),
    ("content-type-twice", "--input train=data/train --content-type train=text/csv "
     "--content-type train=text/plain", None, "--content-type", r"given twice.*NAME=TYPE"),
    ("content-type-too-long", "--input train=data/train --content-type train=" + "x" * 257,
     None, "--content-type", r"train: content type is 257 characters \(expected 1 to 256 "
     r"characters on one line \(SageMaker's limit\)\)"),
    ("metric-bad-regex", "--metric 'loss=loss: ([0-9.'", None, "--metric", r"capture group"),
    ("metric-nothing-to-repeat", "--metric 'loss=*'", None, "--metric", r"capture group"),
    ("metric-no-group", "--metric loss=loss", None, "--metric", r"first group captures"),
    ("metric-non-capturing-group", "--metric 'loss=loss: (?:[0-9.]+)'", None, "--metric",
     r"first group captures"),
    ("metric-twice", "--metric 'l=a(1)' --metric 'l=b(2)'", None, "--metric", r"given twice"),
    ("metric-name-too-long", f"--metric '{'x' * 256}=(x)'", None, "--metric",
     r"1 to 255 characters"),
    ("entry-script-traversal", "--entry-script ../evil.py", None, "--entry-script",
     r"without directories"),
    ("entry-script-dot-dot", "--entry-script ..", None, "--entry-script",
     r"without directories"),
    ("entry-script-hidden", "--entry-script .py", None, "--entry-script", r"without directories"),
    ("entry-script-txt", "--entry-script train.txt", None, "--entry-script",
     r"Python script \(\.py\) or a shell script \(\.sh\)"),
    ("entry-script-no-extension", "--entry-script train", None, "--entry-script",
     r"a name such as train\.py or train\.sh"),
    ("command-empty", "--command ' '", None, "--command",
     r"empty value \(expected --command CMD\)"),
    ("hp-style-unknown", "--hp-style v4", None, "--hp-style", r"v3 \| v2"),
    ("entry-script-not-in-source-dir", "--source-dir src --entry-script fit.py",
     "# runs src/fit.py\n", "--entry-script", r"a file of --source-dir"),
    ("source-dir-missing", "--source-dir nowhere", None, "--source-dir", r"existing directory"),
    ("source-dir-is-a-file", "--source-dir reqs.txt", None, "--source-dir",
     r"existing directory"),
    ("dependencies-missing", "--dependencies nowhere", None, "--dependencies",
     r"existing file or directory"),
    ("requirements-missing", "--requirements nowhere.txt", None, "--requirements",
     r"requirements\.txt"),
    ("requirements-is-a-directory", "--requirements data", None, "--requirements",
     r"requirements\.txt"),
    ("requirements-not-installed", "--requirements reqs.txt", None, "--requirements",
     r"pip install"),
    ("env-credential-name", "--env AWS_SECRET_ACCESS_KEY=abc", None, "--env", r"secret store"),
    ("env-aws-key-id-value", "--env KEY=AKIAIOSFODNN7EXAMPLE", None, "--env", r"secret store"),
    ("env-hf-token-value", "--env HF=hf_abcdefghijklmnopqrstuvwxyz0123", None, "--env",
     r"secret store"),
    ("env-contract-variable", "--env SM_MODEL_DIR=/tmp", None, "--env", r"not SM_\*"),
    ("env-bad-name", "--env 1X=1", None, "--env", r"letters, digits and _"),
    # the cell, numbered as in the cell: %%sm_train is line 1 and the marker line 2
    ("cell-syntax-error", "", RUN + "\ndef f(:\n    pass\n", "cell",
     r"line 4 of train\.py.*compiles"),
    ("cell-unclosed-bracket", "", RUN + "x = [1,\n", "cell", r"line 3 of train\.py.*compiles"),
    ("cell-unexpected-indent", "", RUN + "  x = 1\n", "cell", r"line 3 of train\.py.*compiles"),
    ("cell-return-outside-function", "", RUN + "return 1\n", "cell",
     r"line 3 of train\.py.*compiles"),
    ("cell-nul-character", "", RUN + 'print("a\x00b")\n', "cell",
     r"line 3 of train\.py.*NUL.*compiles"),
    ("cell-line-magic", "", RUN + "import os\n%timeit os.getpid()\n", "cell",
     r"line 4.*plain Python"),
    ("cell-cell-magic", "", RUN + "%%time\n", "cell", r"line 3.*plain Python"),
    ("cell-shell-escape", "", RUN + "!pip install torch\n", "cell",
     r"line 3.*subprocess\.run"),
    ("cell-indented-shell-escape", "", RUN + "if True:\n    !nvidia-smi\n", "cell",
     r"line 4.*subprocess\.run"),
    ("cell-empty", "", "\n# just a comment\n", "cell", r"the training script as the cell body"),
    # credentials, by name or by shape, nested included; the hint is the mode's
    ("hp-aws-secret-key-name", "--hp aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
     None, "--hp", r"credential.*os\.environ\['NAME'\].*secret store"),
    ("hp-session-token", "--hp t=FwoGZXIvYXdzEBYaDHqa0AP1abcdefghijklmnop", None, "--hp",
     r"credential"),
    ("hp-secret-inside-value", "--hp 'creds=aws_secret_access_key=wJalrXUtnFEMI/K7MDENG'",
     None, "--hp", r"creds: the value looks like a credential"),
    ("hps-secret-nested-in-file", "--hps secret.yaml", None, "--hp",
     r"db: the value looks like a credential"),
    ("hp-credential-sagemaker", "--mode sagemaker --hp db_password=hunter2hunter2 --dry-run",
     None, "--hp", r"AWS Secrets Manager.*job's role"),
    ("env-session-token-value", "--env X=IQoJb3JpZ2luX2VjEDYaCXVzLWVhc3QtMSJHMEUCIQ", None,
     "--env", r"looks like a credential"),
    ("env-credential-container", "--mode container --image x --env DB_PASSWORD=x", None,
     "--env", r"a file of an --input channel \(mounted read-only"),
    ("tag-credential-name", "--tag api_key=abcdefgh12345", None, "--tag",
     r"api_key looks like a credential; tags are stored"),
    ("tag-aws-key-value", "--tag owner=AKIAIOSFODNN7EXAMPLE", None, "--tag", r"credential"),
    # control characters and terminal escapes, never printed raw
    ("env-escape", "--env 'X=a\x1b[31mred'", None, "--env", r"control character '\\x1b'"),
    ("hp-osc-title", "--hp 'x=\x1b]0;owned\x07'", None, "--hp", r"control character"),
    ("hp-carriage-return", "--hp 'x=safe\rfake'", None, "--hp", r"'\\r', which .* print raw"),
    ("tag-clear-screen", "--tag 'x=a\x1b[2J'", None, "--tag", r"control character '\\x1b'"),
    ("base-job-name-bidi", "--base-job-name 'a\u202eb'", None, "--base-job-name",
     r"'\\u202e'"),
    ("metric-escape", "--metric 'x=\x1b(1)'", None, "--metric", r"control character"),
    ("command-c1", "--command 'echo \x9b2J'", None, "--command", r"'\\x9b'"),
    ("hps-dict-escape", "--hps $escaped", None, "--hp", r"'a' holds the control character"),
    ("content-type-escape", "--input train=data/train --content-type 'train=a\x1bb'", None,
     "--content-type", r"control character"),
    # YAML aliases, and values shared many times over, are refused before they expand
    ("hps-yaml-alias", "--hps laughs.yaml", None, "--hps",
     r"line 2: YAML alias \*a0 is not accepted.*without \*aliases"),
    ("hps-shared-lists", "--hps $laughs", None, "--hp", r"far over 2500 characters"),
    # path components no file system can hold
    ("input-long-name", f"--input train={'x' * 300}", None, "--input",
     r"train: a path component is 300 bytes.*at most 255 bytes"),
    ("source-dir-long-name", f"--source-dir {'x' * 300}", None, "--source-dir",
     r"300 bytes.*at most 255 bytes"),
    ("hps-long-name", f"--hps {'x' * 300}.json", None, "--hps", r"305 bytes"),
    ("output-long-name", f"--output out/{'x' * 300}", None, "--output", r"300 bytes"),
    ("dependencies-long-name", f"--dependencies {'x' * 300}", None, "--dependencies",
     r"300 bytes"),
    ("requirements-long-name", f"--requirements {'x' * 300}.txt", None, "--requirements",
     r"304 bytes"),
    ("entry-script-long-name", f"--entry-script {'x' * 300}.py", None, "--entry-script",
     r"without directories, of at most 255 bytes"),
    ("path-too-long", "--source-dir " + "/".join(["y" * 200] * 21), None, "--source-dir",
     r"at most 4096 bytes"),
    # image references, by Docker's grammar and ECR's
    ("image-semicolon", "--mode container --image 'busybox;id'", None, "--image",
     r"'busybox;id': a name is lower-case letters.*NAME\[:TAG\]"),
    ("image-upper-case", "--mode container --image UPPER/Case:1", None, "--image",
     r"'Case': names are lower case"),
    ("image-an-option", "--mode container --image=--privileged", None, "--image",
     r"'--privileged'"),
    ("image-upper-case-name", "--mode container --image Busybox", None, "--image",
     r"names are lower case"),
    ("image-bad-tag", "--mode container --image busybox:-x", None, "--image", r"tag '-x'"),
    ("image-bad-digest", "--mode container --image busybox@sha256:abc", None, "--image",
     r"64 lower-case hex"),
    ("image-ecr-short-account", "--mode sagemaker --image "
     "12345.dkr.ecr.us-east-1.amazonaws.com/x:1 --dry-run", None, "--image",
     r"12-digit account"),
    ("image-semicolon-sagemaker", "--mode sagemaker --image 'busybox;id' --dry-run", None,
     "--image", r"lower-case letters"),
    # inputs that are neither a file nor a directory
    ("input-fifo", "--input train=fifo", None, "--input", r"train: fifo is a FIFO, not a file"),
    ("input-device", "--input train=/dev/null", None, "--input", r"a character device"),
    ("input-fifo-sagemaker", "--mode sagemaker --input train=fifo --dry-run", None, "--input",
     r"a FIFO"),
    ("dependencies-device", "--dependencies /dev/zero", None, "--dependencies",
     r"a character device"),
    # whole numbers are ASCII digits
    ("count-underscore", "--instance-count 1_0", None, "--instance-count", r"ASCII digits"),
    ("count-arabic-indic", "--instance-count \u0661", None, "--instance-count",
     r"ASCII digits"),
    ("volume-fullwidth", "--volume-gb \uff11\uff10", None, "--volume-gb", r"ASCII digits"),
    ("pph-underscore", "--distributed torchrun --processes-per-host 1_0", None,
     "--processes-per-host", r"ASCII digits"),
    ("max-run-arabic-indic", "--max-run \u0663h", None, "--max-run", r"90m, 2h"),
    # hosts this machine cannot hold
    ("count-beyond-this-machine", "--mode container --image x --instance-count 100000 "
     "--dry-run", None, "--instance-count",
     r"100000 containers of local_cpu need .* and this machine has .* GiB.*--mode sagemaker"),
]


@pytest.fixture
def inputs(run_dir: Path, ip) -> Path:
    """Files and variables the rows refer to."""
    (run_dir / "data" / "train").mkdir(parents=True)
    (run_dir / "data" / "train" / "part-0.csv").write_text("1,2\n")
    (run_dir / "src").mkdir()
    (run_dir / "bad.json").write_text('{"epochs": 3,\n')
    (run_dir / "bad.yaml").write_text("epochs: [1\n")
    (run_dir / "list.json").write_text("[1, 2]\n")
    (run_dir / "scalar.yaml").write_text("3\n")
    (run_dir / "reqs.txt").write_text("surely-not-installed-package-xyz==1.0\n")
    (run_dir / "secret.yaml").write_text("db:\n  host: h\n  password: hunter2hunter2\n")
    (run_dir / "laughs.yaml").write_text(billion_laughs())
    os.mkfifo(run_dir / "fifo")
    ip.user_ns.update(a_list=[1, 2], lr=0.1, blank="", nothing=None, yes=True,
                      an_object=object(), reserved={"sagemaker_region": "x"},
                      bad_names={"a=b": 1}, escaped={"a": {"b": "\x1b[31m"}},
                      laughs={"lol": shared_lists(9)},
                      many_hps={f"k{i}": i for i in range(101)})
    return run_dir


def billion_laughs(levels: int = 9) -> str:
    """The ~1 KB YAML whose aliases stand for 9**9 (387 million) strings."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def shared_lists(levels: int) -> list:
    """The same in Python: one list, shared nine times at each of ``levels`` levels."""
    value: list = ["lol"] * 9
    for _ in range(levels - 1):
        value = [value] * 9
    return value


def _jobs(jobs_dir: Path) -> list[str]:
    return sorted(os.listdir(jobs_dir)) if jobs_dir.exists() else []


@pytest.mark.parametrize(("line", "cell", "option", "hint"),
                         [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_bad_input_is_one_line_naming_the_option_and_nothing_starts(
        ip, inputs, jobs_dir, line, cell, option, hint):
    before = _jobs(jobs_dir)
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("sm_train", line, RUN if cell is None else cell)
    message = str(caught.value)

    assert type(caught.value) is UsageError
    assert "\n" not in message
    assert not any(unicodedata.category(c) == "Cc" or c == "\u202e" for c in message), message
    assert message.startswith(f"{option}:") or f"{option} " in message, message
    assert re.search(hint, message), message
    assert before == [] and _jobs(jobs_dir) == []
    assert not (inputs / MARKER).exists()


def test_the_table_is_long_enough():
    assert len(ROWS) >= 50 and len({row[0] for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("%%sm_train --hp lr\n" + RUN, "UsageError: --hp: 'lr' has no '='",
                 id="hp-no-equals"),
    pytest.param("%%sm_train --nonsense\n" + RUN, "UsageError: --nonsense: unknown option",
                 id="unknown-option"),
    pytest.param("%%sm_train\n" + RUN + "def broken(:\n", "UsageError: cell: line 3 of train.py",
                 id="cell-syntax-error"),
    pytest.param("%%sm_train\n" + RUN + "!pip install torch\n", "UsageError: cell: line 3: "
                 "IPython syntax '!pip install torch'", id="cell-shell-escape"),
    pytest.param("%%sm_train --job-name my job\n" + RUN, "UsageError: --job-name: unexpected "
                 "extra value 'job'", id="value-after-options"),
])
def test_errors_in_a_cell_show_one_line_and_no_traceback(ip, run_dir, jobs_dir, source,
                                                         expected):
    with capture_output() as captured:
        result = ip.run_cell(source)
    shown = captured.stdout + captured.stderr

    assert not result.success
    assert "Traceback" not in shown
    assert [line for line in shown.splitlines() if line.strip()] == [
        next(line for line in shown.splitlines() if line.startswith(expected))]
    assert _jobs(jobs_dir) == []
    assert not (run_dir / MARKER).exists()
