# A Dockerfile with known problems, for the test that the linters and run-lint.sh bite.
FROM alpine
MAINTAINER nobody
RUN apk add curl
EXPOSE 80000
CMD ["a"]
CMD ["b"]
ENTRYPOINT kafka-autoscaler
