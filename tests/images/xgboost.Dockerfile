# XGBoost (the CPU wheel) on the plain test image, whose Debian numpy and scipy it uses.
FROM smnb-test/sklearn:1
COPY wheels /tmp/wheels
RUN pip install --no-index --no-deps --find-links /tmp/wheels --break-system-packages \
        --no-cache-dir xgboost-cpu && rm -rf /tmp/wheels && python3 -c "import xgboost"
