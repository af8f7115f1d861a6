"""A keyring that, like keyrings.cryptfile, asks for its own password before
its first read or write, unless the password is in the environment.

In-process it counts its prompts and raises EOFError (what ``getpass`` raises
with no terminal to ask on), so a test never waits on the developer's terminal.
Across processes (PYTHON_KEYRING_BACKEND=tests.prompting_keyring.PromptingKeyring,
COUNTER_TEST_KEYRING_PROMPT=getpass) it really calls ``getpass``: run it
without a controlling terminal and it fails exactly as the encrypted file does.
Unlocked (COUNTER_TEST_KEYRING_PASSWORD set), secrets live in the JSON file
COUNTER_TEST_KEYRING_FILE, or in memory without one.
"""

import getpass
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

PASSWORD_ENV = "COUNTER_TEST_KEYRING_PASSWORD"


class PromptingKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.prompts = 0
        self.reads = 0
        self.memory: dict[str, str] = {}

    def _unlock(self) -> None:
        if os.environ.get(PASSWORD_ENV):
            return
        self.prompts += 1
        if os.environ.get("COUNTER_TEST_KEYRING_PROMPT") == "getpass":
            getpass.getpass("Please enter password for encrypted keyring: ")  # EOFError with nothing to read
            raise ValueError("Incorrect Password")
        raise EOFError  # no terminal to read the password from

    def _load(self) -> dict:
        path = os.environ.get("COUNTER_TEST_KEYRING_FILE")
        if path is None:
            return self.memory
        return json.loads(Path(path).read_text()) if Path(path).exists() else {}

    def _save(self, data: dict) -> None:
        path = os.environ.get("COUNTER_TEST_KEYRING_FILE")
        if path is None:
            self.memory = data
        else:
            Path(path).write_text(json.dumps(data))

    def get_password(self, service, username):
        self.reads += 1
        self._unlock()
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        self._unlock()
        self._save(self._load() | {f"{service}/{username}": password})

    def delete_password(self, service, username):
        self._unlock()
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self._save(data)
