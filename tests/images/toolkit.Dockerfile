# AWS's sagemaker-training toolkit on the plain test image, as in AWS framework images.
# Their Python is their own, so the toolkit's `pip install -r requirements.txt` may install
# into it; here that Python is Debian's, which refuses (PEP 668) unless told otherwise.
FROM smnb-test/sklearn:1
COPY wheels /tmp/wheels
RUN pip install --no-index --find-links /tmp/wheels --break-system-packages --no-cache-dir \
        sagemaker-training && rm -rf /tmp/wheels && command -v train
ENV PIP_BREAK_SYSTEM_PACKAGES=1
