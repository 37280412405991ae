# A CPU PyTorch with a working torchrun (Debian's python3-torch has a broken one on 3.11).
FROM smnb-test/sklearn:1
COPY wheels /tmp/wheels
RUN pip install --no-index --find-links /tmp/wheels --break-system-packages --no-cache-dir \
        torch && rm -rf /tmp/wheels && command -v torchrun
