"""The vault seals secrets so they open only in their own place, with the right master key."""

import pytest

from tracore.vault import (
    MalformedBlob,
    MasterKeyError,
    TamperedBlob,
    UnknownMasterKey,
    Vault,
    VaultError,
    generate_master_key,
    key_context,
    run_context,
)

SECRET = "sk-test-abcdefghijklmnop1234"


@pytest.fixture
def vault():
    return Vault(generate_master_key())


def test_round_trip(vault):
    blob = vault.seal(SECRET, key_context(1, "openai"))
    assert vault.open_sealed(blob, key_context(1, "openai")) == SECRET
    assert SECRET.encode() not in blob


def test_every_seal_uses_a_fresh_nonce(vault):
    nonces = {vault.seal(SECRET, b"ctx")[9:21] for _ in range(10_000)}
    assert len(nonces) == 10_000


def test_a_blob_copied_to_another_row_does_not_open(vault):
    blob = vault.seal(SECRET, key_context(1, "openai"))
    for other in (key_context(2, "openai"), key_context(1, "mistral"), run_context(1)):
        with pytest.raises(TamperedBlob):
            vault.open_sealed(blob, other)


def test_a_flipped_byte_is_detected(vault):
    blob = bytearray(vault.seal(SECRET, b"ctx"))
    blob[-1] ^= 0x01
    with pytest.raises(TamperedBlob):
        vault.open_sealed(bytes(blob), b"ctx")


def test_a_wrong_master_key_is_a_clear_error(vault):
    blob = vault.seal(SECRET, b"ctx")
    with pytest.raises(UnknownMasterKey) as caught:
        Vault(generate_master_key()).open_sealed(blob, b"ctx")
    assert "TRACORE_ENCRYPTION_KEY" in str(caught.value)


def test_unknown_version_and_garbage_are_malformed(vault):
    blob = vault.seal(SECRET, b"ctx")
    with pytest.raises(MalformedBlob):
        vault.open_sealed(b"\x02" + blob[1:], b"ctx")
    for junk in (b"", b"plaintext-looking-thing", SECRET.encode()):
        with pytest.raises(VaultError) as caught:
            vault.open_sealed(junk, b"ctx")
        assert SECRET not in str(caught.value)


def test_a_retired_master_key_still_opens_old_blobs():
    old, new = generate_master_key(), generate_master_key()
    blob = Vault(old).seal(SECRET, b"ctx")
    rotated = Vault(new, [old])
    assert rotated.open_sealed(blob, b"ctx") == SECRET
    assert Vault(new).open_sealed(rotated.seal(SECRET, b"ctx"), b"ctx") == SECRET


@pytest.mark.parametrize("bad", ["", "not base64!", "c2hvcnQ="])
def test_a_malformed_master_key_is_refused(bad):
    with pytest.raises(MasterKeyError):
        Vault(bad)


def test_repr_shows_no_key_material():
    key = generate_master_key()
    assert key not in repr(Vault(key))
