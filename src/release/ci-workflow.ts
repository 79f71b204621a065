/**
 * The GitHub Actions workflow of a release project: on every pull request, build the previous release
 * tag and the head, post (or update) one sticky comment with the Markdown plan, and fail when the
 * committed plan drifted or a state migration does not verify. docs/ci.md shows and explains it (a test
 * holds the two equal); `relup init` writes it to .github/workflows/relup-plan.yml.
 */
export const CI_WORKFLOW = `name: relup plan
on:
  pull_request:
permissions:
  contents: read
  pull-requests: write
jobs:
  plan:
    runs-on: ubuntu-latest
    env:
      PROJECT: .
      RELUP: npx --no-install relup
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: Install
        run: npm ci
      - name: Build the previous release and the head
        id: build
        run: |
          if ! previous=$(git describe --tags --abbrev=0 --match 'v*' HEAD^1 2>/dev/null); then
            echo "no v* tag before this pull request: no previous release to plan an upgrade from"
            echo "skip=true" >> "$GITHUB_OUTPUT"
            exit 0
          fi
          echo "previous release: $previous"
          git worktree add --detach "$RUNNER_TEMP/previous" "$previous"
          if [ -f "$RUNNER_TEMP/previous/$PROJECT/package-lock.json" ]; then (cd "$RUNNER_TEMP/previous/$PROJECT" && npm ci); fi
          $RELUP build "$RUNNER_TEMP/previous/$PROJECT" --out "$RUNNER_TEMP/relup/previous"
          $RELUP build "$PROJECT" --out "$RUNNER_TEMP/relup/head"
          if [ "$(cd "$RUNNER_TEMP/relup/previous" && ls -- *.tar.gz)" = "$(cd "$RUNNER_TEMP/relup/head" && ls -- *.tar.gz)" ]; then
            echo "the head has the version of $previous: no upgrade to plan until the version is bumped"
            echo "skip=true" >> "$GITHUB_OUTPUT"
          fi
      - name: Write the plan comment
        if: steps.build.outputs.skip != 'true'
        run: |
          $RELUP generate "$RUNNER_TEMP"/relup/previous/*.tar.gz "$RUNNER_TEMP"/relup/head/*.tar.gz --verify --format markdown --comment > "$RUNNER_TEMP/relup/comment.md" || [ -s "$RUNNER_TEMP/relup/comment.md" ]
      - name: Post or update the plan comment
        if: steps.build.outputs.skip != 'true'
        env:
          GH_TOKEN: \${{ github.token }}
          PR: \${{ github.event.pull_request.number }}
        run: |
          id=$(gh api "repos/$GITHUB_REPOSITORY/issues/$PR/comments" --paginate --jq '.[] | select(.body | startswith("<!-- relup-plan-comment -->")) | .id' | head -n 1)
          if [ -n "$id" ]; then
            gh api -X PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F body=@"$RUNNER_TEMP/relup/comment.md" > /dev/null
          else
            gh pr comment "$PR" --body-file "$RUNNER_TEMP/relup/comment.md"
          fi
      - name: The committed plan is the one generated now
        if: steps.build.outputs.skip != 'true'
        run: $RELUP generate "$RUNNER_TEMP"/relup/previous/*.tar.gz "$RUNNER_TEMP"/relup/head/*.tar.gz -o "$PROJECT/plans/" --check
      - name: State migrations verify
        if: steps.build.outputs.skip != 'true'
        run: $RELUP verify "$RUNNER_TEMP"/relup/previous/*.tar.gz "$RUNNER_TEMP"/relup/head/*.tar.gz --strict
`;
