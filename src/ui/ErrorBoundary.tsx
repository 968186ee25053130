import { Component, type ReactNode } from 'react';

/** Keeps one broken view from taking the page down; says what failed. */
export class ErrorBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="view-error" role="alert">
          The {this.props.name} view failed: {this.state.error.message}
          <button onClick={() => this.setState({ error: null })}>retry</button>
        </div>
      );
    }
    return this.props.children;
  }
}
