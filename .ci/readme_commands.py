#!/usr/bin/env python3
"""Runs every shell command of the user documentation, so none can rot:
`python3 .ci/readme_commands.py --binary target/debug/genrescope [--music ../shared/music]`.

Each line of each ```sh block of README.md and docs/command-line.md is one command (a line
ending in `\\` goes on). The commands run with bash in a fresh folder whose HOME holds
`~/Music` and whose `song.flac`, `songs/` and `more/songs/` are clips cut from the research
corpus (8 s each, MP3, FLAC, WAV and Ogg), with `target/bundled/genrescope` standing for the
binary under test and `models/` for the repository's. A command fails the run if it exits
non-zero. The few that cannot run here are in SKIPPED with the reason; an entry that matches no
command any more fails the run too, so the list cannot outlive the documents.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTS = ['README.md', 'docs/command-line.md']
BUNDLED = 'target/bundled/genrescope'

# Command prefix -> why it is not run here.
SKIPPED = {
    'bash .ci/deps && cargo xtask bundle': 'the release bundle: CI builds and tests the same '
    'targets in debug, and `cargo xtask demo` is what it runs on them',
    'bash .ci/hosts && bash .ci/quantizer': 'the test command: .ci/run runs it (checked below)',
    'mkdir -p ~/.clap ~/.vst3': 'installs the release bundle, which CI does not build',
    'cp target/bundled/genrescope.clap': 'installs the release bundle, which CI does not build',
    'cp -r target/bundled/genrescope.vst3': 'installs the release bundle, which CI does not build',
    f'{BUNDLED} --backend': 'opens the app window with live audio; runs until closed',
}

# (corpus folder, where its first clip goes): every format `analyze` reads in a DJ's folder.
CLIPS = [
    ('gtzan/hiphop', 'home/Music/hiphop.mp3'),
    ('gtzan/jazz', 'home/Music/Jazz/jazz.flac'),
    ('gtzan/reggae', 'home/Music/reggae.wav'),
    ('gtzan/disco', 'song.flac'),
    ('gtzan/rock', 'songs/rock.ogg'),
    ('gtzan/blues', 'songs/blues.wav'),
    ('gtzan/pop', 'more/songs/pop.mp3'),
]
SECONDS = 8


def commands(path):
    """The commands of `path`'s ```sh blocks, continuation lines joined."""
    text = open(os.path.join(REPO, path), encoding='utf-8').read()
    found = []
    for block in re.findall(r'^ *```sh\n(.*?)^ *```', text, flags=re.M | re.S):
        pending = ''
        for line in block.splitlines():
            line = pending + line.strip()
            if line.endswith('\\'):
                pending = line[:-1] + ' '
                continue
            pending = ''
            if line and not line.startswith('#'):
                found.append(line)
    return found


def skip_reason(command):
    return next((why for prefix, why in SKIPPED.items() if command.startswith(prefix)), None)


def check_test_command(readme_commands):
    """The README's test command must be the one .ci/run runs."""
    ci = open(os.path.join(REPO, '.ci/run'), encoding='utf-8').read()
    test = next(c for c in readme_commands if c.startswith('bash .ci/hosts'))
    cargo_test = re.sub(r'\s+#.*$', '', test[test.index('cargo test'):])
    if cargo_test not in ci:
        sys.exit(f'.ci/run does not run the README\'s test command:\n  {cargo_test}')


def make_clips(music, work):
    for folder, target in CLIPS:
        folder = os.path.join(music, folder)
        source = os.path.join(folder, min(f for f in os.listdir(folder) if f.endswith('.ogg')))
        target = os.path.join(work, target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', source,
                        '-t', str(SECONDS), target], check=True)
    os.symlink(os.path.join(REPO, 'models'), os.path.join(work, 'models'))


def run(command, binary, work, env):
    shown = command.replace(BUNDLED, os.path.relpath(binary, REPO))
    print(f'$ {shown}', flush=True)
    result = subprocess.run(['bash', '-o', 'pipefail', '-c', command.replace(BUNDLED, binary)],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep='\n')
        print(f'  exit code {result.returncode}')
    return result.returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--binary', required=True, help='the genrescope binary to run')
    parser.add_argument('--music', default=os.environ.get('GENRESCOPE_MUSIC', '../shared/music'))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    per_document = {path: commands(path) for path in DOCUMENTS}
    check_test_command(per_document['README.md'])
    every = [c for found in per_document.values() for c in found]
    unused = [prefix for prefix in SKIPPED if not any(c.startswith(prefix) for c in every)]
    if unused:
        sys.exit(f'skipped commands no document has any more: {unused}')
    env = dict(os.environ)
    runtime = os.path.join(REPO, '.ort', 'libonnxruntime.so')
    if 'ORT_DYLIB_PATH' not in env and os.path.exists(runtime):
        env['ORT_DYLIB_PATH'] = runtime
    failed, ran = [], 0
    with tempfile.TemporaryDirectory(prefix='genrescope-docs-') as work:
        make_clips(os.path.join(REPO, args.music), work)
        env['HOME'] = os.path.join(work, 'home')
        for path, found in per_document.items():
            for command in found:
                why = skip_reason(command)
                if why:
                    print(f'skipped ({why}): {command}')
                    continue
                ran += 1
                if not run(command, binary, work, env):
                    failed.append(f'{path}: {command}')
    print(f'{ran} documented commands run, {len(failed)} failed')
    for command in failed:
        print(f'  failed: {command}')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
