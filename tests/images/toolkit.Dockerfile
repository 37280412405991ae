# AWS's sagemaker-training toolkit on the plain test image, as in AWS framework images.
FROM smnb-test/sklearn:1
COPY wheels /tmp/wheels
RUN pip install --no-index --find-links /tmp/wheels --break-system-packages --no-cache-dir \
        sagemaker-training && rm -rf /tmp/wheels && command -v train
