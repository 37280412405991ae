# A bring-your-own image as SageMaker runs them: `docker run IMAGE train`, with a `train`
# of its own (no Python, no toolkit). Tiny (busybox), so the pull tests can push and pull
# it through a local registry in a moment.
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY train /usr/local/bin/train
ENV PATH=/usr/local/bin:/bin
# An anonymous volume, as some images declare: a job must not leave it behind.
VOLUME /scratch
